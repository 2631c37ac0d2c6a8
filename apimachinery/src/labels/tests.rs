use super::*;
use serde_json::json;

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

const NAME_PART_REGEX: &str = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const VALUE_REGEX: &str = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

#[test]
fn parses_to_canonical_form() {
    let cases = [
        ("", ""),
        ("   ", ""),
        ("x=a", "x=a"),
        ("x==a", "x==a"),
        ("x!=a", "x!=a"),
        ("  x  =  a  ", "x=a"),
        ("y=b,x=a", "x=a,y=b"),
        ("x=a,y!=b", "x=a,y!=b"),
        ("x", "x"),
        ("!x", "!x"),
        ("! x", "!x"),
        ("x,!y", "x,!y"),
        ("x in (c,a,b)", "x in (a,b,c)"),
        ("x in(a)", "x in (a)"),
        ("x notin (a, b)", "x notin (a,b)"),
        ("x in (a,a)", "x in (a)"),
        ("x in ()", "x in ()"),
        ("x in (,a)", "x in (,a)"),
        ("x in (a,)", "x in (,a)"),
        ("x in (a,,b)", "x in (,a,b)"),
        ("x=", "x="),
        ("x=,y=", "x=,y="),
        ("x>1", "x>1"),
        ("x<5", "x<5"),
        ("in in (in)", "in in (in)"),
        ("notin=notin", "notin=notin"),
        (
            "app.kubernetes.io/name=nginx,tier in (frontend)",
            "app.kubernetes.io/name=nginx,tier in (frontend)",
        ),
        (
            "environment notin (dev),tier",
            "environment notin (dev),tier",
        ),
        ("k8s-app=kube-dns", "k8s-app=kube-dns"),
        ("app=test-k8s", "app=test-k8s"),
        ("target=redis", "target=redis"),
        ("istio-injection=enabled", "istio-injection=enabled"),
        ("disktype=ssd", "disktype=ssd"),
        (
            "!node-role.kubernetes.io/control-plane",
            "!node-role.kubernetes.io/control-plane",
        ),
    ];
    for (input, want) in cases {
        let sel = Selector::parse(input).unwrap_or_else(|e| panic!("{input:?}: {e}"));
        assert_eq!(sel.to_string(), want, "{input:?}");
        // The canonical form parses back to the same selector.
        assert_eq!(Selector::parse(want).ok(), Some(sel), "{input:?}");
    }
}

#[test]
fn rejects_with_upstream_messages() {
    let cases = [
        (",x", "found ',', expected: !, identifier, or 'end of string'".to_string()),
        ("x=a,", "found '', expected: identifier after ','".to_string()),
        ("x=a,,y=b", "found ',', expected: identifier after ','".to_string()),
        ("x=a y=b", "found 'y', expected: ',' or 'end of string'".to_string()),
        ("!x=a", "found '=', expected: ',' or 'end of string'".to_string()),
        (
            "x y",
            "unable to parse requirement: found 'y', expected: in, notin, =, ==, !=, gt, lt"
                .to_string(),
        ),
        (
            "x in (a",
            "unable to parse requirement: found '', expected: ',' or ')'".to_string(),
        ),
        (
            "x in a",
            "unable to parse requirement: found 'a' expected: '('".to_string(),
        ),
        (
            "x in (=)",
            "unable to parse requirement: found '=', expected: ',', ')' or identifier".to_string(),
        ),
        (
            "x in (a=)",
            "unable to parse requirement: found '=', expected: ',' or ')'".to_string(),
        ),
        ("x==(", "unable to parse requirement: found '(', expected: identifier".to_string()),
        ("!", "unable to parse requirement: found '', expected: identifier".to_string()),
        (
            "x>a",
            "unable to parse requirement: values[0]: Invalid value: \"a\": for 'Gt', 'Lt' operators, the value must be an integer".to_string(),
        ),
        (
            "app:monolith",
            format!("unable to parse requirement: <nil>: Invalid value: \"app:monolith\": {NAME_PART_REGEX}"),
        ),
        (
            "*bar",
            format!("unable to parse requirement: <nil>: Invalid value: \"*bar\": {NAME_PART_REGEX}"),
        ),
        (
            "a/b/c ?=? def",
            format!("unable to parse requirement: <nil>: Invalid value: \"a/b/c\": a qualified name {} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
                NAME_PART_REGEX.trim_start_matches("name part ")),
        ),
        (
            "app.kubernetes_io/name=x",
            "unable to parse requirement: <nil>: Invalid value: \"app.kubernetes_io/name\": prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')".to_string(),
        ),
        (
            "x=a||y",
            format!("unable to parse requirement: values[0][x]: Invalid value: \"a||y\": {VALUE_REGEX}"),
        ),
        (
            "x in (-a)",
            format!("unable to parse requirement: values[0][x]: Invalid value: \"-a\": {VALUE_REGEX}"),
        ),
    ];
    for (input, want) in cases {
        match Selector::parse(input) {
            Ok(s) => panic!("{input:?} parsed as {s}"),
            Err(e) => assert_eq!(e.to_string(), want, "{input:?}"),
        }
    }
}

#[test]
fn matches_label_sets() {
    let set = labels(&[("app", "nginx"), ("tier", "frontend"), ("n", "5")]);
    let cases = [
        ("", true),
        ("app=nginx", true),
        ("app==nginx", true),
        ("app=redis", false),
        ("app!=redis", true),
        ("app!=nginx", false),
        ("missing!=x", true),
        ("missing=x", false),
        ("app", true),
        ("missing", false),
        ("!missing", true),
        ("!app", false),
        ("tier in (frontend,backend)", true),
        ("tier in (backend)", false),
        ("missing in (a)", false),
        ("tier notin (backend)", true),
        ("tier notin (frontend)", false),
        ("missing notin (a)", true),
        ("app=nginx,tier=frontend", true),
        ("app=nginx,tier=backend", false),
        ("n>4", true),
        ("n>5", false),
        ("n<6", true),
        ("app>1", false),
        ("missing<1", false),
        ("app in ()", false),
    ];
    for (sel, want) in cases {
        let s = Selector::parse(sel).expect(sel);
        assert_eq!(s.matches(&set), want, "{sel}");
        let as_json = serde_json::to_value(&set).expect("labels to json");
        assert_eq!(s.matches_value(Some(&as_json)), want, "{sel} (json)");
    }
    let empty_value = labels(&[("app", "")]);
    assert!(Selector::parse("app in ()").unwrap().matches(&empty_value));
    assert!(Selector::parse("app=").unwrap().matches(&empty_value));
}

#[test]
fn matches_objects_without_labels() {
    let s = Selector::parse("!app").unwrap();
    assert!(s.matches_value(None));
    assert!(!Selector::parse("app").unwrap().matches_value(None));
    assert!(Selector::everything().matches_value(None));
    assert!(Selector::everything().is_empty());
    assert!(!Selector::nothing().matches_value(None));
    assert!(!Selector::nothing().is_empty());
}

#[test]
fn from_label_selector_objects() {
    // The PVC selector from the seed, with its commented-out matchExpressions enabled.
    let seed = json!({
        "matchLabels": {"target": "redis"},
        "matchExpressions": [
            {"key": "tier", "operator": "In", "values": ["cache"]},
            {"key": "environment", "operator": "NotIn", "values": ["dev"]}
        ]
    });
    let cases = [
        (json!({}), Ok("")),
        (json!({"matchLabels": {"app": "test-k8s"}}), Ok("app=test-k8s")),
        (
            json!({"matchLabels": {"b": "2", "a": "1"}}),
            Ok("a=1,b=2"),
        ),
        (seed, Ok("environment notin (dev),target=redis,tier in (cache)")),
        (
            json!({"matchExpressions": [{"key": "a", "operator": "Exists"}, {"key": "b", "operator": "DoesNotExist", "values": []}]}),
            Ok("a,!b"),
        ),
        (
            json!({"matchExpressions": [{"key": "a", "operator": "In", "values": ["z", "y"]}]}),
            Ok("a in (y,z)"),
        ),
        (
            json!({"matchExpressions": [{"key": "a", "operator": "In"}]}),
            Err("values: Invalid value: []string(nil): for 'in', 'notin' operators, values set can't be empty".to_string()),
        ),
        (
            json!({"matchExpressions": [{"key": "a", "operator": "NotIn", "values": []}]}),
            Err("values: Invalid value: []string(nil): for 'in', 'notin' operators, values set can't be empty".to_string()),
        ),
        (
            json!({"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]}),
            Err("values: Invalid value: []string{\"x\"}: values set must be empty for exists and does not exist".to_string()),
        ),
        (
            json!({"matchExpressions": [{"key": "a", "operator": "Gt", "values": ["1"]}]}),
            Err("\"Gt\" is not a valid label selector operator".to_string()),
        ),
        (
            json!({"matchLabels": {"app": "bad value"}}),
            Err(format!("values[0][app]: Invalid value: \"bad value\": {VALUE_REGEX}")),
        ),
        (
            json!({"matchLabels": {"bad key": "v"}}),
            Err(format!("key: Invalid value: \"bad key\": {NAME_PART_REGEX}")),
        ),
    ];
    for (input, want) in cases {
        let got = Selector::from_label_selector(&input).map(|s| s.to_string());
        let want = want.map(str::to_string).map_err(SelectorError);
        assert_eq!(got, want, "{input}");
    }
}

#[test]
fn label_selector_matching() {
    let s = Selector::from_label_selector(&json!({
        "matchLabels": {"target": "redis"},
        "matchExpressions": [{"key": "environment", "operator": "NotIn", "values": ["dev"]}]
    }))
    .unwrap();
    assert!(s.matches(&labels(&[("target", "redis")])));
    assert!(s.matches(&labels(&[("target", "redis"), ("environment", "prod")])));
    assert!(!s.matches(&labels(&[("target", "redis"), ("environment", "dev")])));
    assert!(!s.matches(&labels(&[("target", "mongo")])));
    let null = Selector::from_label_selector(&serde_json::Value::Null).unwrap();
    assert!(!null.matches(&labels(&[("target", "redis")])));
    let empty = Selector::from_label_selector(&json!({})).unwrap();
    assert!(empty.matches(&labels(&[])));
}

#[test]
fn from_map_is_equality() {
    let s = Selector::from_map(&labels(&[("app", "web"), ("tier", "fe")])).unwrap();
    assert_eq!(s.to_string(), "app=web,tier=fe");
    assert!(s.matches(&labels(&[("app", "web"), ("tier", "fe"), ("x", "y")])));
    assert!(!s.matches(&labels(&[("app", "web")])));
}
