//! `--config`: the subset of KubeSchedulerConfiguration
//! (kubescheduler.config.k8s.io/v1) this scheduler honours: profiles with
//! plugins enabled/disabled per extension point, score weights,
//! `pluginConfig` for NodeResourcesFit, PodTopologySpread and
//! InterPodAffinity, `percentageOfNodesToScore`, leader election.

use crate::plugins::inter_pod_affinity::InterPodAffinity;
use crate::plugins::node_resources_fit::{NodeResourcesFit, ScoringStrategy};
use crate::plugins::pod_topology_spread::PodTopologySpread;
use crate::plugins::volume_binding::VolumeBinding;
use crate::plugins::{self, DEFAULT_FILTERS, DEFAULT_SCORES, PluginArgs};
use crate::profile::Profile;
use k8s_openapi::api::core::v1::TopologySpreadConstraint;
use serde::Deserialize;
use std::path::Path;
use std::sync::Arc;

pub const API_VERSION: &str = "kubescheduler.config.k8s.io/v1";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot decode {path}: {source}")]
    Decode {
        path: String,
        source: serde_yaml::Error,
    },
    #[error("{0}")]
    Invalid(String),
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Configuration {
    pub api_version: Option<String>,
    pub kind: Option<String>,
    #[serde(default)]
    pub client_connection: ClientConnection,
    #[serde(default)]
    pub leader_election: LeaderElection,
    pub percentage_of_nodes_to_score: Option<u32>,
    #[serde(default)]
    pub profiles: Vec<ProfileConfig>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientConnection {
    pub kubeconfig: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LeaderElection {
    pub leader_elect: Option<bool>,
    /// Go durations (`15s`), as the flags of the same names.
    pub lease_duration: Option<String>,
    pub renew_deadline: Option<String>,
    pub retry_period: Option<String>,
    pub resource_name: Option<String>,
    pub resource_namespace: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProfileConfig {
    pub scheduler_name: Option<String>,
    pub percentage_of_nodes_to_score: Option<u32>,
    #[serde(default)]
    pub plugins: Plugins,
    #[serde(default)]
    pub plugin_config: Vec<PluginConfig>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Plugins {
    #[serde(default)]
    pub multi_point: PluginSet,
    #[serde(default)]
    pub pre_filter: PluginSet,
    #[serde(default)]
    pub filter: PluginSet,
    #[serde(default)]
    pub post_filter: PluginSet,
    #[serde(default)]
    pub pre_score: PluginSet,
    #[serde(default)]
    pub score: PluginSet,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct PluginSet {
    #[serde(default)]
    pub enabled: Vec<PluginRef>,
    #[serde(default)]
    pub disabled: Vec<PluginRef>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct PluginRef {
    pub name: String,
    pub weight: Option<i64>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PluginConfig {
    pub name: String,
    #[serde(default)]
    pub args: serde_json::Value,
}

impl PluginSet {
    fn disables(&self, name: &str) -> bool {
        self.disabled
            .iter()
            .any(|p| p.name == name || p.name == "*")
    }
}

impl Configuration {
    pub fn load(path: &Path) -> Result<Configuration, ConfigError> {
        let p = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: p.clone(),
            source,
        })?;
        Self::parse(&text, &p)
    }

    pub fn parse(text: &str, origin: &str) -> Result<Configuration, ConfigError> {
        let c: Configuration =
            serde_yaml::from_str(text).map_err(|source| ConfigError::Decode {
                path: origin.to_string(),
                source,
            })?;
        if let Some(v) = c.api_version.as_deref().filter(|v| *v != API_VERSION) {
            return Err(ConfigError::Invalid(format!(
                "no kind \"KubeSchedulerConfiguration\" is registered for version \"{v}\""
            )));
        }
        if c.kind
            .as_deref()
            .is_some_and(|k| k != "KubeSchedulerConfiguration")
        {
            return Err(ConfigError::Invalid(format!(
                "unexpected kind {:?}",
                c.kind
            )));
        }
        if c.percentage_of_nodes_to_score.is_some_and(|p| p > 100) {
            return Err(ConfigError::Invalid(
                "percentageOfNodesToScore: Invalid value: not in valid range [0-100]".into(),
            ));
        }
        Ok(c)
    }

    /// The profiles to run (one default profile when none is configured).
    pub fn build_profiles(&self, volumes: Arc<VolumeBinding>) -> Result<Vec<Profile>, ConfigError> {
        let defaults = [ProfileConfig::default()];
        let configured: &[ProfileConfig] = if self.profiles.is_empty() {
            &defaults
        } else {
            &self.profiles
        };
        let mut out: Vec<Profile> = Vec::new();
        for pc in configured {
            let p = build_profile(
                pc,
                self.percentage_of_nodes_to_score.unwrap_or(0),
                volumes.clone(),
            )?;
            if out.iter().any(|o| o.scheduler_name == p.scheduler_name) {
                return Err(ConfigError::Invalid(format!(
                    "profiles[].schedulerName: Duplicate value: \"{}\"",
                    p.scheduler_name
                )));
            }
            out.push(p);
        }
        Ok(out)
    }
}

fn args_for(pc: &ProfileConfig, volumes: Arc<VolumeBinding>) -> Result<PluginArgs, ConfigError> {
    let mut args = PluginArgs {
        volumes: Some(volumes),
        ..Default::default()
    };
    for c in &pc.plugin_config {
        let bad = |e: String| ConfigError::Invalid(format!("pluginConfig {}: {e}", c.name));
        match c.name.as_str() {
            "NodeResourcesFit" => {
                let mut fit = NodeResourcesFit::default();
                if let Some(s) = c.args.get("scoringStrategy") {
                    fit.strategy = match s
                        .get("type")
                        .and_then(|t| t.as_str())
                        .unwrap_or("LeastAllocated")
                    {
                        "LeastAllocated" => ScoringStrategy::LeastAllocated,
                        "MostAllocated" => ScoringStrategy::MostAllocated,
                        other => {
                            return Err(bad(format!("unsupported scoringStrategy.type {other:?}")));
                        }
                    };
                    if let Some(list) = s.get("resources").and_then(|r| r.as_array()) {
                        fit.resources = list
                            .iter()
                            .filter_map(|r| {
                                Some((
                                    r.get("name")?.as_str()?.to_string(),
                                    r.get("weight").and_then(|w| w.as_i64()).unwrap_or(1),
                                ))
                            })
                            .collect();
                    }
                }
                args.resources_fit = Some(Arc::new(fit));
            }
            "PodTopologySpread" => {
                let mut pts = PodTopologySpread::default();
                let list = c.args.get("defaultingType").and_then(|t| t.as_str()) == Some("List");
                if list {
                    let constraints: Vec<TopologySpreadConstraint> =
                        match c.args.get("defaultConstraints") {
                            Some(v) => {
                                serde_json::from_value(v.clone()).map_err(|e| bad(e.to_string()))?
                            }
                            None => Vec::new(),
                        };
                    pts.default_constraints = constraints;
                }
                args.topology_spread = Some(Arc::new(pts));
            }
            "InterPodAffinity" => {
                let w = c
                    .args
                    .get("hardPodAffinityWeight")
                    .and_then(|w| w.as_i64())
                    .unwrap_or(1);
                if !(0..=100).contains(&w) {
                    return Err(bad(
                        "hardPodAffinityWeight: Invalid value: not in valid range [0-100]".into(),
                    ));
                }
                args.inter_pod_affinity = Some(Arc::new(InterPodAffinity {
                    hard_pod_affinity_weight: w,
                }));
            }
            _ => {}
        }
    }
    Ok(args)
}

fn build_profile(
    pc: &ProfileConfig,
    global_pct: u32,
    volumes: Arc<VolumeBinding>,
) -> Result<Profile, ConfigError> {
    let args = args_for(pc, volumes.clone())?;
    let p = &pc.plugins;
    for r in p
        .multi_point
        .enabled
        .iter()
        .chain(&p.filter.enabled)
        .chain(&p.score.enabled)
    {
        if !plugins::known(&r.name) {
            return Err(ConfigError::Invalid(format!(
                "plugin \"{}\" does not exist",
                r.name
            )));
        }
    }
    let filter_off =
        |n: &str| p.multi_point.disables(n) || p.filter.disables(n) || p.pre_filter.disables(n);
    let score_off = |n: &str| p.multi_point.disables(n) || p.score.disables(n);

    let mut filter_names: Vec<String> = DEFAULT_FILTERS
        .iter()
        .filter(|n| !filter_off(n))
        .map(|n| n.to_string())
        .collect();
    for r in p.multi_point.enabled.iter().chain(&p.filter.enabled) {
        if DEFAULT_FILTERS.contains(&r.name.as_str()) && !filter_names.contains(&r.name) {
            filter_names.push(r.name.clone());
        }
    }
    let mut score_list: Vec<(String, i64)> = DEFAULT_SCORES
        .iter()
        .filter(|(n, _)| !score_off(n))
        .map(|(n, w)| (n.to_string(), *w))
        .collect();
    for r in p.multi_point.enabled.iter().chain(&p.score.enabled) {
        if let Some(default) = DEFAULT_SCORES.iter().find(|(n, _)| *n == r.name) {
            let weight = r.weight.filter(|w| *w > 0).unwrap_or(default.1);
            match score_list.iter_mut().find(|(n, _)| *n == r.name) {
                Some(entry) => entry.1 = weight,
                None => score_list.push((r.name.clone(), weight)),
            }
        }
    }
    let filters = filter_names
        .iter()
        .filter_map(|n| plugins::filter_plugin(n, &args))
        .collect();
    let scores = score_list
        .iter()
        .filter_map(|(n, w)| plugins::score_plugin(n, &args).map(|pl| (pl, *w)))
        .collect();
    let preemption = !(p.multi_point.disables("DefaultPreemption")
        || p.post_filter.disables("DefaultPreemption"));
    let pct = pc.percentage_of_nodes_to_score.unwrap_or(global_pct);
    if pct > 100 {
        return Err(ConfigError::Invalid(
            "percentageOfNodesToScore: Invalid value: not in valid range [0-100]".into(),
        ));
    }
    Ok(Profile {
        scheduler_name: pc
            .scheduler_name
            .clone()
            .unwrap_or_else(|| "default-scheduler".into()),
        volumes: filter_names
            .iter()
            .any(|n| n == "VolumeBinding")
            .then_some(volumes),
        filters,
        scores,
        preemption,
        percentage_of_nodes_to_score: pct,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profiles(yaml: &str) -> Result<Vec<Profile>, ConfigError> {
        Configuration::parse(yaml, "test")?.build_profiles(Arc::new(VolumeBinding::default()))
    }

    #[test]
    fn defaults_without_profiles() {
        let p = profiles(
            "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\n",
        )
        .unwrap();
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].scheduler_name, "default-scheduler");
        assert_eq!(p[0].filter_names(), DEFAULT_FILTERS.to_vec());
        assert!(p[0].preemption);
        assert!(p[0].volumes.is_some());
    }

    #[test]
    fn plugins_disabled_enabled_and_weighted() {
        let yaml = r#"
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
percentageOfNodesToScore: 50
profiles:
- schedulerName: default-scheduler
- schedulerName: no-spread
  plugins:
    multiPoint:
      disabled: [{name: PodTopologySpread}]
    score:
      disabled: [{name: "*"}]
      enabled: [{name: NodeResourcesFit, weight: 5}]
    postFilter:
      disabled: [{name: DefaultPreemption}]
  pluginConfig:
  - name: NodeResourcesFit
    args: {scoringStrategy: {type: MostAllocated}}
"#;
        let p = profiles(yaml).unwrap();
        assert_eq!(p.len(), 2);
        let ns = &p[1];
        assert_eq!(ns.scheduler_name, "no-spread");
        assert!(!ns.filter_names().contains(&"PodTopologySpread"));
        assert_eq!(ns.scores.len(), 1);
        assert_eq!(
            (ns.scores[0].0.name(), ns.scores[0].1),
            ("NodeResourcesFit", 5)
        );
        assert!(!ns.preemption);
        assert_eq!(ns.percentage_of_nodes_to_score, 50);
    }

    #[test]
    fn bad_configurations_are_refused() {
        let cases = [
            "apiVersion: kubescheduler.config.k8s.io/v1beta1\n",
            "percentageOfNodesToScore: 101\n",
            "profiles: [{plugins: {filter: {enabled: [{name: Nope}]}}}]\n",
            "profiles: [{schedulerName: a}, {schedulerName: a}]\n",
            "profiles: [{pluginConfig: [{name: NodeResourcesFit, args: {scoringStrategy: {type: Weird}}}]}]\n",
        ];
        for yaml in cases {
            assert!(profiles(yaml).is_err(), "{yaml}");
        }
    }
}
