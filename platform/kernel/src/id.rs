//! Typed identifiers: UUIDv7 shown with a type prefix, in the spirit of TypeID
//! (`shop_01jd4…`). The suffix is the 128-bit UUID in 26 lowercase Crockford base32
//! characters, so ids sort by creation time as text and as bytes.

use std::fmt;

const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";

/// Encodes a UUID as 26 Crockford base32 characters (the first carries 3 bits).
pub fn encode_suffix(uuid: uuid::Uuid) -> String {
    let value = uuid.as_u128();
    (0..26)
        .map(|i| {
            let shift = 5 * (25 - i);
            ALPHABET[((value >> shift) & 0x1f) as usize] as char
        })
        .collect()
}

/// Decodes a 26-character suffix; `None` when it is not one.
pub fn decode_suffix(suffix: &str) -> Option<uuid::Uuid> {
    if suffix.len() != 26 {
        return None;
    }
    let mut value: u128 = 0;
    for (i, byte) in suffix.bytes().enumerate() {
        let digit = ALPHABET.iter().position(|&c| c == byte)? as u128;
        // The first character holds the top 3 bits only (26 * 5 = 130 bits).
        if i == 0 && digit > 7 {
            return None;
        }
        value = (value << 5) | digit;
    }
    Some(uuid::Uuid::from_u128(value))
}

/// Why a string is not an id of the expected type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected an id of the form {prefix}_<26 base32 characters>")]
pub struct IdParseError {
    pub prefix: &'static str,
}

/// Parses `<prefix>_<suffix>` into a UUID.
pub fn parse_prefixed(prefix: &'static str, text: &str) -> Result<uuid::Uuid, IdParseError> {
    text.strip_prefix(prefix)
        .and_then(|rest| rest.strip_prefix('_'))
        .and_then(decode_suffix)
        .ok_or(IdParseError { prefix })
}

#[doc(hidden)]
pub fn fmt_prefixed(prefix: &str, uuid: uuid::Uuid, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    write!(f, "{prefix}_{}", encode_suffix(uuid))
}

/// Declares a typed id: `typed_id!(pub ShopId, "shop");`
#[macro_export]
macro_rules! typed_id {
    ($(#[$meta:meta])* $vis:vis $name:ident, $prefix:literal) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        $vis struct $name($crate::__private::uuid::Uuid);

        impl $name {
            pub const PREFIX: &'static str = $prefix;

            /// A new time-ordered id.
            pub fn new() -> Self {
                Self($crate::__private::uuid::Uuid::now_v7())
            }

            pub const fn from_uuid(uuid: $crate::__private::uuid::Uuid) -> Self {
                Self(uuid)
            }

            pub const fn as_uuid(&self) -> $crate::__private::uuid::Uuid {
                self.0
            }
        }

        impl ::std::default::Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                $crate::id::fmt_prefixed($prefix, self.0, f)
            }
        }

        impl ::std::fmt::Debug for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                ::std::fmt::Display::fmt(self, f)
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::id::IdParseError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $crate::id::parse_prefixed($prefix, s).map(Self)
            }
        }

        impl $crate::__private::serde::Serialize for $name {
            fn serialize<S: $crate::__private::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }

        impl<'de> $crate::__private::serde::Deserialize<'de> for $name {
            fn deserialize<D: $crate::__private::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = <::std::borrow::Cow<'de, str> as $crate::__private::serde::Deserialize>::deserialize(d)?;
                text.parse().map_err($crate::__private::serde::de::Error::custom)
            }
        }

        impl $crate::__private::utoipa::PartialSchema for $name {
            fn schema() -> $crate::__private::utoipa::openapi::RefOr<$crate::__private::utoipa::openapi::schema::Schema> {
                $crate::__private::utoipa::openapi::ObjectBuilder::new()
                    .schema_type($crate::__private::utoipa::openapi::schema::Type::String)
                    .pattern(Some(concat!("^", $prefix, "_[0-7][0-9a-hjkmnp-tv-z]{25}$")))
                    .examples([concat!($prefix, "_01jd4s8m0g6x3y2z1w0v9t8s7r")])
                    .into()
            }
        }

        impl $crate::__private::utoipa::ToSchema for $name {}
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::typed_id!(TestId, "tst");

    #[test]
    fn round_trips_through_text() {
        for _ in 0..100 {
            let id = TestId::new();
            let text = id.to_string();
            assert!(text.starts_with("tst_"));
            assert_eq!(text.len(), 4 + 26);
            assert_eq!(text.parse::<TestId>(), Ok(id));
            assert_eq!(TestId::from_uuid(id.as_uuid()), id);
        }
        assert_eq!(TestId::PREFIX, "tst");
        let max = uuid::Uuid::from_u128(u128::MAX);
        assert_eq!(decode_suffix(&encode_suffix(max)), Some(max));
    }

    #[test]
    fn text_order_is_creation_order() {
        let a = TestId::new();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let b = TestId::new();
        assert!(a.to_string() < b.to_string());
    }

    #[test]
    fn rejects_other_prefixes_and_garbage() {
        let id = TestId::new().to_string();
        assert!(id.replacen("tst", "shop", 1).parse::<TestId>().is_err());
        assert!("tst_".parse::<TestId>().is_err());
        assert!("tst_8zzzzzzzzzzzzzzzzzzzzzzzzz".parse::<TestId>().is_err());
        assert!("tst_0123456789abcdefghjkmnpqru".parse::<TestId>().is_err());
        assert!(id.to_uppercase().parse::<TestId>().is_err());
    }
}
