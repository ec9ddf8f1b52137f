//! Element types: ONNX's, tract's and the chain's [`DType`].

use tract_onnx::{pb::tensor_proto::DataType as OnnxType, prelude::DatumType};
use verinfer_primitives::DType;

/// tract's type for a chain dtype.
pub fn tract(dtype: DType) -> DatumType {
	match dtype {
		DType::F32 => DatumType::F32,
		DType::F64 => DatumType::F64,
		DType::F16 => DatumType::F16,
		DType::I8 => DatumType::I8,
		DType::I16 => DatumType::I16,
		DType::I32 => DatumType::I32,
		DType::I64 => DatumType::I64,
		DType::U8 => DatumType::U8,
		DType::U16 => DatumType::U16,
		DType::U32 => DatumType::U32,
		DType::U64 => DatumType::U64,
		DType::Bool => DatumType::Bool,
	}
}

/// The chain dtype of a tract output. tract computes shapes as `TDim`; an output of that type
/// (a model returning a shape) is carried as i64, as ONNX declares it.
pub fn our_dtype(dtype: DatumType) -> Option<DType> {
	Some(match dtype {
		DatumType::F32 => DType::F32,
		DatumType::F64 => DType::F64,
		DatumType::F16 => DType::F16,
		DatumType::I8 => DType::I8,
		DatumType::I16 => DType::I16,
		DatumType::I32 => DType::I32,
		DatumType::I64 | DatumType::TDim => DType::I64,
		DatumType::U8 => DType::U8,
		DatumType::U16 => DType::U16,
		DatumType::U32 => DType::U32,
		DatumType::U64 => DType::U64,
		DatumType::Bool => DType::Bool,
		_ => return None,
	})
}

/// The chain dtype of an ONNX `TensorProto.DataType`, if it has one.
pub fn onnx_dtype(elem_type: i32) -> Option<DType> {
	Some(match OnnxType::try_from(elem_type).ok()? {
		OnnxType::Float => DType::F32,
		OnnxType::Double => DType::F64,
		OnnxType::Float16 => DType::F16,
		OnnxType::Int8 => DType::I8,
		OnnxType::Int16 => DType::I16,
		OnnxType::Int32 => DType::I32,
		OnnxType::Int64 => DType::I64,
		OnnxType::Uint8 => DType::U8,
		OnnxType::Uint16 => DType::U16,
		OnnxType::Uint32 => DType::U32,
		OnnxType::Uint64 => DType::U64,
		OnnxType::Bool => DType::Bool,
		_ => return None,
	})
}
