//! What every controller is handed: the apiserver client, the parsed flags
//! and the event recorder. Cheap to clone (everything behind `Arc`).

use crate::events::{EventRecorder, Recorder};
use crate::informers::Informers;
use crate::metrics::Metrics;
use crate::options::Options;
use std::sync::Arc;

#[derive(Clone)]
pub struct Context {
    pub client: kube::Client,
    pub options: Arc<Options>,
    pub events: EventRecorder,
    pub metrics: Arc<Metrics>,
    /// Shared watches and caches, one per kind.
    pub informers: Informers,
}

impl Context {
    pub fn new(client: kube::Client, options: Options) -> Context {
        Context {
            events: EventRecorder::new(client.clone()),
            informers: crate::informers::factory(client.clone()),
            client,
            options: Arc::new(options),
            metrics: Arc::new(Metrics::default()),
        }
    }

    /// The recorder a controller posts its Events with, under upstream's
    /// source component name (`deployment-controller`, ...).
    pub fn recorder(&self, component: &'static str) -> Recorder {
        self.events.for_component(component)
    }
}
