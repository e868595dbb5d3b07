//! An object's fields in the order Kubernetes documents read, `apiVersion`, `kind`, `metadata`,
//! then the rest, written straight from the typed object: k8s-openapi writes some kinds' fields
//! (a ConfigMap's `data`) before `metadata`, and reordering them through a `serde_json::Value`
//! cost a copy of every object (and its frees) on every run.

use serde::ser::{Error, Impossible, SerializeMap, SerializeStruct};
use serde::{Serialize, Serializer};

/// The fields written first, in this order; every other field follows in the type's own order.
const FIRST: [&str; 3] = ["apiVersion", "kind", "metadata"];

/// A typed object (a struct at the top) written as a map with the [`FIRST`] fields first.
pub(crate) struct MetadataFirst<'a, T>(pub(crate) &'a T);

impl<T: Serialize> Serialize for MetadataFirst<'_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // The length stays open: a writer uses it only to lay out an empty map, and an object
        // always has `apiVersion`. A field cannot be held back for later (serde lends each value
        // only for its call), so the object is walked once per pass and each pass writes the
        // fields it takes; a walk that skips a field never serializes its value.
        let mut map = serializer.serialize_map(None)?;
        for key in FIRST {
            self.0.serialize(Pass {
                map: &mut map,
                takes: Takes::Only(key),
            })?;
        }
        self.0.serialize(Pass {
            map: &mut map,
            takes: Takes::Rest,
        })?;
        map.end()
    }
}

/// Which fields one walk over the object writes.
#[derive(Clone, Copy)]
enum Takes {
    Only(&'static str),
    Rest,
}

impl Takes {
    fn field(self, key: &str) -> bool {
        match self {
            Takes::Only(only) => key == only,
            Takes::Rest => !FIRST.contains(&key),
        }
    }
}

/// One walk: receives the object's fields and forwards those it takes into the output map.
struct Pass<'m, M> {
    map: &'m mut M,
    takes: Takes,
}

impl<M: SerializeMap> SerializeStruct for Pass<'_, M> {
    type Ok = ();
    type Error = M::Error;

    fn serialize_field<T: ?Sized + Serialize>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), M::Error> {
        if self.takes.field(key) {
            self.map.serialize_entry(key, value)?;
        }
        Ok(())
    }

    fn end(self) -> Result<(), M::Error> {
        Ok(())
    }
}

/// What every shape other than a struct gets: an object is always a struct at the top, so this
/// only reports a bug (which the schema tests would catch).
fn not_a_struct<E: Error>() -> E {
    E::custom("a Kubernetes object serializes as a struct")
}

/// The [`Serializer`] methods for the shapes an object never has, each failing with
/// [`not_a_struct`].
macro_rules! not_an_object {
    ($($method:ident($($arg:ty),*) -> $ok:ty;)*) => {
        $(
            fn $method(self, $(_: $arg),*) -> Result<$ok, M::Error> {
                Err(not_a_struct())
            }
        )*
    };
}

impl<M: SerializeMap> Serializer for Pass<'_, M> {
    type Ok = ();
    type Error = M::Error;
    type SerializeSeq = Impossible<(), M::Error>;
    type SerializeTuple = Impossible<(), M::Error>;
    type SerializeTupleStruct = Impossible<(), M::Error>;
    type SerializeTupleVariant = Impossible<(), M::Error>;
    type SerializeMap = Impossible<(), M::Error>;
    type SerializeStruct = Self;
    type SerializeStructVariant = Impossible<(), M::Error>;

    fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<Self, M::Error> {
        Ok(self)
    }

    not_an_object! {
        serialize_bool(bool) -> ();
        serialize_i8(i8) -> ();
        serialize_i16(i16) -> ();
        serialize_i32(i32) -> ();
        serialize_i64(i64) -> ();
        serialize_u8(u8) -> ();
        serialize_u16(u16) -> ();
        serialize_u32(u32) -> ();
        serialize_u64(u64) -> ();
        serialize_f32(f32) -> ();
        serialize_f64(f64) -> ();
        serialize_char(char) -> ();
        serialize_str(&str) -> ();
        serialize_bytes(&[u8]) -> ();
        serialize_none() -> ();
        serialize_unit() -> ();
        serialize_unit_struct(&'static str) -> ();
        serialize_unit_variant(&'static str, u32, &'static str) -> ();
        serialize_seq(Option<usize>) -> Self::SerializeSeq;
        serialize_tuple(usize) -> Self::SerializeTuple;
        serialize_tuple_struct(&'static str, usize) -> Self::SerializeTupleStruct;
        serialize_tuple_variant(&'static str, u32, &'static str, usize) -> Self::SerializeTupleVariant;
        serialize_map(Option<usize>) -> Self::SerializeMap;
        serialize_struct_variant(&'static str, u32, &'static str, usize) -> Self::SerializeStructVariant;
    }

    fn serialize_some<T: ?Sized + Serialize>(self, _value: &T) -> Result<(), M::Error> {
        Err(not_a_struct())
    }

    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        _name: &'static str,
        _value: &T,
    ) -> Result<(), M::Error> {
        Err(not_a_struct())
    }

    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _name: &'static str,
        _variant_index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result<(), M::Error> {
        Err(not_a_struct())
    }
}
