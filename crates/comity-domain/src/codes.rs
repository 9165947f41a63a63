//! A macro for the coded enumerations of the domain (offence categories, measures, roles...).
//!
//! Each variant has a stable machine code (used on the wire, in storage and in the law
//! catalog) and an English label (used in forms and the web interface). Declaring both in
//! one place keeps the code, the label and the list of all values from drifting apart.

/// The reason a string is not one of a coded enumeration's codes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} `{value}`; expected one of: {expected}")]
pub struct UnknownCode {
    /// What kind of code was expected, for example "measure kind".
    pub kind: &'static str,
    /// The string that was given.
    pub value: String,
    /// The accepted codes, comma-separated.
    pub expected: String,
}

/// Declares a fieldless enum with a stable code and an English label for each variant,
/// and gives it `code()`, `label()`, `ALL`, `FromStr` and `Display`.
#[macro_export]
macro_rules! coded_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident ($kind:literal) {
            $( $(#[$vmeta:meta])* $variant:ident = ($code:literal, $label:literal), )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        $vis enum $name {
            $( $(#[$vmeta])* $variant, )+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[ $( $name::$variant, )+ ];

            /// The stable machine code.
            pub const fn code(self) -> &'static str {
                match self { $( $name::$variant => $code, )+ }
            }

            /// The English label.
            pub const fn label(self) -> &'static str {
                match self { $( $name::$variant => $label, )+ }
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::codes::UnknownCode;

            fn from_str(input: &str) -> Result<Self, Self::Err> {
                match input {
                    $( $code => Ok($name::$variant), )+
                    _ => Err($crate::codes::UnknownCode {
                        kind: $kind,
                        value: input.to_string(),
                        expected: [$( $code ),+].join(", "),
                    }),
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.code())
            }
        }
    };
}
