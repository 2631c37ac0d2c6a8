//! The fixed messages of apimachinery's `generated.proto` that the decoder
//! reads as whole values: the `runtime.Unknown` envelope and the types
//! whose JSON form is a scalar (times, durations, IntOrString, Quantity,
//! raw JSON).

/// `runtime.TypeMeta`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct TypeMeta {
    #[prost(string, tag = "1")]
    pub api_version: String,
    #[prost(string, tag = "2")]
    pub kind: String,
}

/// `runtime.Unknown`: what follows the `k8s\0` magic of a protobuf body.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Unknown {
    #[prost(message, optional, tag = "1")]
    pub type_meta: Option<TypeMeta>,
    #[prost(bytes = "vec", tag = "2")]
    pub raw: Vec<u8>,
    #[prost(string, tag = "3")]
    pub content_encoding: String,
    #[prost(string, tag = "4")]
    pub content_type: String,
}

/// `metav1.Time` and `metav1.MicroTime` (a `google.protobuf.Timestamp`).
#[derive(Clone, PartialEq, prost::Message)]
pub struct Time {
    #[prost(int64, tag = "1")]
    pub seconds: i64,
    #[prost(int32, tag = "2")]
    pub nanos: i32,
}

/// `metav1.Duration`, in nanoseconds.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Duration {
    #[prost(int64, tag = "1")]
    pub duration: i64,
}

/// `intstr.IntOrString`: `type` 0 is an int, 1 a string.
#[derive(Clone, PartialEq, prost::Message)]
pub struct IntOrString {
    #[prost(int64, tag = "1")]
    pub r#type: i64,
    #[prost(int32, tag = "2")]
    pub int_val: i32,
    #[prost(string, tag = "3")]
    pub str_val: String,
}

/// `resource.Quantity`, carried as its string form.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Quantity {
    #[prost(string, tag = "1")]
    pub string: String,
}

/// `runtime.RawExtension` and `metav1.FieldsV1`: embedded JSON bytes.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Raw {
    #[prost(bytes = "vec", tag = "1")]
    pub raw: Vec<u8>,
}
