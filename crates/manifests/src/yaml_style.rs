//! The one string style mailu-k8s decides itself on top of serde-saphyr's, applied to any value
//! as it is written (a typed object or JSON data alike), so typed objects go straight into the
//! YAML writer without a `serde_json::Value` copy in between.
//!
//! serde-saphyr gets one case wrong for libyaml (and so PyYAML, Go's yaml and kubectl): a
//! multi-line string whose first non-empty line starts with a tab. serde-saphyr writes it as a
//! `|` block without an indentation indicator (it adds one only for leading spaces), and libyaml
//! refuses a tab where it detects the block's indentation: `"\tx\ny"` came out as `|-\n  \tx\n  y`
//! and failed with "found a tab character where an indentation space is expected". Such a string
//! is double-quoted instead. Mapping keys are left to serde-saphyr (it never writes one as a
//! block).

use serde::Serialize;
use serde::ser::{
    SerializeMap, SerializeSeq, SerializeStruct, SerializeStructVariant, SerializeTuple,
    SerializeTupleStruct, SerializeTupleVariant, Serializer,
};

/// A value written with mailu-k8s's string style, through any serializer.
pub(crate) struct Styled<'a, T: ?Sized>(pub(crate) &'a T);

impl<T: ?Sized + Serialize> Serialize for Styled<'_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(Styler(serializer))
    }
}

/// Whether `text` would be a literal block whose indentation libyaml has to detect on a tab.
fn tab_leads_block(text: &str) -> bool {
    text.contains('\n')
        && text
            .split('\n')
            .find(|line| !line.is_empty())
            .is_some_and(|line| line.starts_with('\t'))
}

/// Forwards everything to the serializer it wraps, except that such strings are double-quoted
/// and every value nested below is styled too.
struct Styler<S>(S);

/// Scalars and shapes with no string inside: passed through unchanged.
macro_rules! forward {
    ($($method:ident($($arg:ident: $ty:ty),*) -> $ok:ty;)*) => {
        $(
            fn $method(self, $($arg: $ty),*) -> Result<$ok, S::Error> {
                self.0.$method($($arg),*)
            }
        )*
    };
}

/// Collections: the wrapped serializer's, styling each element or value.
macro_rules! forward_compound {
    ($($method:ident($($arg:ident: $ty:ty),*) -> $assoc:ident;)*) => {
        $(
            fn $method(self, $($arg: $ty),*) -> Result<Self::$assoc, S::Error> {
                self.0.$method($($arg),*).map(Styler)
            }
        )*
    };
}

impl<S: Serializer> Serializer for Styler<S> {
    type Ok = S::Ok;
    type Error = S::Error;
    type SerializeSeq = Styler<S::SerializeSeq>;
    type SerializeTuple = Styler<S::SerializeTuple>;
    type SerializeTupleStruct = Styler<S::SerializeTupleStruct>;
    type SerializeTupleVariant = Styler<S::SerializeTupleVariant>;
    type SerializeMap = Styler<S::SerializeMap>;
    type SerializeStruct = Styler<S::SerializeStruct>;
    type SerializeStructVariant = Styler<S::SerializeStructVariant>;

    fn serialize_str(self, v: &str) -> Result<S::Ok, S::Error> {
        if tab_leads_block(v) {
            serde_saphyr::DoubleQuoted(v).serialize(self.0)
        } else {
            self.0.serialize_str(v)
        }
    }

    forward! {
        serialize_bool(v: bool) -> S::Ok;
        serialize_i8(v: i8) -> S::Ok;
        serialize_i16(v: i16) -> S::Ok;
        serialize_i32(v: i32) -> S::Ok;
        serialize_i64(v: i64) -> S::Ok;
        serialize_i128(v: i128) -> S::Ok;
        serialize_u8(v: u8) -> S::Ok;
        serialize_u16(v: u16) -> S::Ok;
        serialize_u32(v: u32) -> S::Ok;
        serialize_u64(v: u64) -> S::Ok;
        serialize_u128(v: u128) -> S::Ok;
        serialize_f32(v: f32) -> S::Ok;
        serialize_f64(v: f64) -> S::Ok;
        serialize_char(v: char) -> S::Ok;
        serialize_bytes(v: &[u8]) -> S::Ok;
        serialize_none() -> S::Ok;
        serialize_unit() -> S::Ok;
        serialize_unit_struct(name: &'static str) -> S::Ok;
        serialize_unit_variant(name: &'static str, index: u32, variant: &'static str) -> S::Ok;
    }

    forward_compound! {
        serialize_seq(len: Option<usize>) -> SerializeSeq;
        serialize_tuple(len: usize) -> SerializeTuple;
        serialize_tuple_struct(name: &'static str, len: usize) -> SerializeTupleStruct;
        serialize_tuple_variant(name: &'static str, index: u32, variant: &'static str, len: usize) -> SerializeTupleVariant;
        serialize_map(len: Option<usize>) -> SerializeMap;
        serialize_struct(name: &'static str, len: usize) -> SerializeStruct;
        serialize_struct_variant(name: &'static str, index: u32, variant: &'static str, len: usize) -> SerializeStructVariant;
    }

    fn serialize_some<T: ?Sized + Serialize>(self, value: &T) -> Result<S::Ok, S::Error> {
        self.0.serialize_some(&Styled(value))
    }

    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        name: &'static str,
        value: &T,
    ) -> Result<S::Ok, S::Error> {
        self.0.serialize_newtype_struct(name, &Styled(value))
    }

    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<S::Ok, S::Error> {
        self.0
            .serialize_newtype_variant(name, index, variant, &Styled(value))
    }

    fn is_human_readable(&self) -> bool {
        self.0.is_human_readable()
    }
}

/// Implements a compound trait by styling each value handed to `$element`.
macro_rules! styled_elements {
    ($($trait:ident::$element:ident;)*) => {
        $(
            impl<C: $trait> $trait for Styler<C> {
                type Ok = C::Ok;
                type Error = C::Error;

                fn $element<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), C::Error> {
                    self.0.$element(&Styled(value))
                }

                fn end(self) -> Result<C::Ok, C::Error> {
                    self.0.end()
                }
            }
        )*
    };
}

styled_elements! {
    SerializeSeq::serialize_element;
    SerializeTuple::serialize_element;
    SerializeTupleStruct::serialize_field;
    SerializeTupleVariant::serialize_field;
}

impl<C: SerializeMap> SerializeMap for Styler<C> {
    type Ok = C::Ok;
    type Error = C::Error;

    fn serialize_key<T: ?Sized + Serialize>(&mut self, key: &T) -> Result<(), C::Error> {
        self.0.serialize_key(key)
    }

    fn serialize_value<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), C::Error> {
        self.0.serialize_value(&Styled(value))
    }

    fn serialize_entry<K: ?Sized + Serialize, V: ?Sized + Serialize>(
        &mut self,
        key: &K,
        value: &V,
    ) -> Result<(), C::Error> {
        self.0.serialize_entry(key, &Styled(value))
    }

    fn end(self) -> Result<C::Ok, C::Error> {
        self.0.end()
    }
}

/// Implements a struct trait by styling each field's value (never its name).
macro_rules! styled_fields {
    ($($trait:ident;)*) => {
        $(
            impl<C: $trait> $trait for Styler<C> {
                type Ok = C::Ok;
                type Error = C::Error;

                fn serialize_field<T: ?Sized + Serialize>(
                    &mut self,
                    key: &'static str,
                    value: &T,
                ) -> Result<(), C::Error> {
                    self.0.serialize_field(key, &Styled(value))
                }

                fn skip_field(&mut self, key: &'static str) -> Result<(), C::Error> {
                    self.0.skip_field(key)
                }

                fn end(self) -> Result<C::Ok, C::Error> {
                    self.0.end()
                }
            }
        )*
    };
}

styled_fields! {
    SerializeStruct;
    SerializeStructVariant;
}
