use harness::controller_manager::CmCluster;
#[test]
fn debug_conn() {
    let c = CmCluster::start_with("endpoints,endpointslice,endpointslice-mirroring", vec![], &["--v=5"]);
    std::thread::sleep(std::time::Duration::from_secs(8));
    println!("CM:\n{}", c.cm.log_tail(400));
    println!("API:\n{}", c.api.apiserver.log_tail(30));
}
