//! # Verinfer inference precompile
//!
//! What the runtime, the inference engine and the node share about inference, and (in later steps)
//! the host functions that run the engine during block execution.
//!
//! - [`tensor`]: the SCALE [`Tensor`](tensor::Tensor) every input and output travels as: a dtype, a
//!   shape and little-endian row-major bytes. `no_std`, so the runtime stores and checks tensors
//!   without knowing any file format.
//! - [`tensor_io`] (`std`): the file formats client tools accept: JSON and NumPy `.npy`.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub mod tensor;
#[cfg(feature = "std")]
pub mod tensor_io;

pub use tensor::{DType, Tensor, TensorError};
