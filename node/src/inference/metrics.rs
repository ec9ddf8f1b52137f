//! The node's inference metrics, registered with its Prometheus registry (`--prometheus-port`).
//!
//! - `verinfer_inference_calls_total{served}`: host-function calls to run a model, by how they
//!   were served: `ahead` (made by a pre-execution worker), `waited` (a worker was making it),
//!   `made` (on the executing thread);
//! - `verinfer_inference_call_seconds`: how long those calls took the executing thread;
//! - `verinfer_inference_model_cache_total{result}`: loaded-model cache `hit`s and `miss`es
//!   (a miss parses and optimises the model);
//! - `verinfer_inference_pre_executed_total`, `verinfer_inference_pre_execution_seconds`: calls
//!   made ahead, and how long each took a worker;
//! - `verinfer_inference_saved_seconds_total`: executing-thread time that results made ahead
//!   saved;
//! - `verinfer_inference_engine_compile_seconds`: compiling the engine blob (or loading it from
//!   the disk cache);
//! - `verinfer_inference_workers`: pre-execution worker threads.

use std::time::Duration;

use substrate_prometheus_endpoint::{
	exponential_buckets, register, Counter, CounterVec, Gauge, Histogram, HistogramOpts, Opts,
	PrometheusError, Registry, F64, U64,
};
use verinfer_executor::cache::{CacheObserver, Served};

pub struct InferenceMetrics {
	calls: CounterVec<U64>,
	call_seconds: Histogram,
	model_cache: CounterVec<U64>,
	pre_executed: Counter<U64>,
	pre_execution_seconds: Histogram,
	saved_seconds: Counter<F64>,
	engine_compile_seconds: Histogram,
}

/// Buckets from 100 µs to ~ 100 s: a small MLP to a ResNet-sized CNN, and the engine's compile.
fn seconds(name: &str, help: &str) -> Result<Histogram, PrometheusError> {
	Histogram::with_opts(
		HistogramOpts::new(name, help).buckets(exponential_buckets(0.0001, 4.0, 11)?),
	)
}

impl InferenceMetrics {
	/// Registers the metrics with `registry`, and sets the worker count.
	pub fn register(
		registry: &Registry,
		workers: usize,
	) -> Result<InferenceMetrics, PrometheusError> {
		let gauge = register(
			Gauge::<U64>::new("verinfer_inference_workers", "Pre-execution worker threads")?,
			registry,
		)?;
		gauge.set(workers as u64);
		Ok(InferenceMetrics {
			calls: register(
				CounterVec::new(
					Opts::new(
						"verinfer_inference_calls_total",
						"Host-function calls to run a model, by how they were served",
					),
					&["served"],
				)?,
				registry,
			)?,
			call_seconds: register(
				seconds(
					"verinfer_inference_call_seconds",
					"Time a host-function call to run a model took the executing thread",
				)?,
				registry,
			)?,
			model_cache: register(
				CounterVec::new(
					Opts::new(
						"verinfer_inference_model_cache_total",
						"Loaded-model cache lookups, by result",
					),
					&["result"],
				)?,
				registry,
			)?,
			pre_executed: register(
				Counter::new(
					"verinfer_inference_pre_executed_total",
					"Calls made ahead by pre-execution workers",
				)?,
				registry,
			)?,
			pre_execution_seconds: register(
				seconds(
					"verinfer_inference_pre_execution_seconds",
					"Time a call made ahead took its worker",
				)?,
				registry,
			)?,
			saved_seconds: register(
				Counter::new(
					"verinfer_inference_saved_seconds_total",
					"Executing-thread time saved by results made ahead",
				)?,
				registry,
			)?,
			engine_compile_seconds: register(
				seconds(
					"verinfer_inference_engine_compile_seconds",
					"Compiling the engine blob, or loading it from the disk cache",
				)?,
				registry,
			)?,
		})
	}
}

impl CacheObserver for InferenceMetrics {
	fn call(&self, served: Served, latency: Duration) {
		let served = match served {
			Served::Ahead => "ahead",
			Served::Waited => "waited",
			Served::Made => "made",
		};
		self.calls.with_label_values(&[served]).inc();
		self.call_seconds.observe(latency.as_secs_f64());
	}

	fn model_cache(&self, hit: bool) {
		self.model_cache.with_label_values(&[if hit { "hit" } else { "miss" }]).inc();
	}

	fn pre_executed(&self, took: Duration) {
		self.pre_executed.inc();
		self.pre_execution_seconds.observe(took.as_secs_f64());
	}

	fn saved(&self, saved: Duration) {
		self.saved_seconds.inc_by(saved.as_secs_f64());
	}

	fn engine_compiled(&self, took: Duration) {
		self.engine_compile_seconds.observe(took.as_secs_f64());
	}
}
