//! # Verinfer tensor files
//!
//! The files client tools read tensors from and write them to, by extension: JSON and NumPy
//! `.npy` ([`json_npy`], read and written) and ONNX `TensorProto` (`.pb`, [`proto`], read); and
//! whether one tensor is another within a tolerance ([`compare`]); and ONNX's test-case folders
//! of a model and its tensors ([`test_case`]).

use std::{fmt, path::Path, string::String, vec::Vec};

use verinfer_primitives::tensor::Tensor;

pub mod compare;
pub mod json_npy;
pub mod proto;
pub mod test_case;

/// Why a file gave no tensor.
#[derive(Debug)]
pub enum FileError {
	/// The file could not be read or written.
	Io { path: String, error: std::io::Error },
	/// The file is not in a format we read, or not a valid tensor.
	Format { path: String, reason: String },
}

impl FileError {
	/// A file that is not in a format we read.
	pub fn format(path: &Path, reason: impl Into<String>) -> FileError {
		FileError::Format { path: path.display().to_string(), reason: reason.into() }
	}
}

impl fmt::Display for FileError {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		match self {
			FileError::Io { path, error } => write!(f, "{path}: {error}"),
			FileError::Format { path, reason } => write!(f, "{path}: {reason}"),
		}
	}
}

impl std::error::Error for FileError {}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> FileError + '_ {
	move |error| FileError::Io { path: path.display().to_string(), error }
}

/// Reads a file.
pub fn read_file(path: &Path) -> Result<Vec<u8>, FileError> {
	std::fs::read(path).map_err(io(path))
}

/// Reads a tensor from a `.json`, `.npy` or `.pb` file.
pub fn read_tensor(path: &Path) -> Result<Tensor, FileError> {
	let bytes = read_file(path)?;
	let tensor = |reason: String| FileError::format(path, reason);
	match extension(path).as_str() {
		"json" => {
			let text = String::from_utf8(bytes).map_err(|_| tensor("not UTF-8".into()))?;
			json_npy::from_json(&text).map_err(|e| tensor(e.to_string()))
		},
		"npy" => json_npy::from_npy(&bytes).map_err(|e| tensor(e.to_string())),
		"pb" => proto::from_tensor_proto(&bytes).map_err(tensor),
		other => Err(tensor(format!("unknown tensor format `.{other}`: use .json, .npy or .pb"))),
	}
}

/// Writes a tensor as `.json` or `.npy`, by the path's extension.
pub fn write_tensor(path: &Path, tensor: &Tensor) -> Result<(), FileError> {
	let fail = |reason: String| FileError::format(path, reason);
	let bytes = match extension(path).as_str() {
		"json" => (json_npy::to_json(tensor).map_err(|e| fail(e.to_string()))? + "\n").into_bytes(),
		"npy" => json_npy::to_npy(tensor).map_err(|e| fail(e.to_string()))?,
		other => return Err(fail(format!("cannot write `.{other}`: use .json or .npy"))),
	};
	std::fs::write(path, bytes).map_err(io(path))
}

fn extension(path: &Path) -> String {
	path.extension().map(|e| e.to_string_lossy().to_ascii_lowercase()).unwrap_or_default()
}
