//! Errors from deriving a content model from a schema or reading a model file.

/// A schema or model file that cannot be turned into a content model. Every variant names the
/// source (`origin`: a file path or an endpoint, never a token), the type or field at fault, and
/// what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// Catch-all for callers that have no more specific variant.
    #[error("{origin}: {message}")]
    Invalid { origin: String, message: String },

    #[error("{origin}: cannot parse the GraphQL schema: {details}; export the schema (SDL) again from the endpoint, or use its introspection JSON")]
    SchemaSyntax { origin: String, details: String },

    #[error("{origin}: not an answer to the introspection query: {details}; send the standard introspection query and save the whole JSON answer")]
    Introspection { origin: String, details: String },

    #[error("{origin}: the schema has no `{name}` enum; is this a Hygraph Content API schema?")]
    MissingEnum { origin: String, name: String },

    #[error("{origin}: cannot tell the default locale: no value of the `Locale` enum is described as \"System locale\" and no input mentions \"default locale (xx)\"")]
    NoDefaultLocale { origin: String },

    #[error("{origin}: field `{owner}.{field}` refers to type `{target}`, which the schema does not define; the schema is incomplete, export it again")]
    MissingType {
        origin: String,
        owner: String,
        field: String,
        target: String,
    },

    #[error("{origin}: union `{union}` (type of `{owner}.{field}`) has no members; a relation or component union needs at least one")]
    EmptyUnion {
        origin: String,
        owner: String,
        field: String,
        union: String,
    },

    /// A syntax or shape error in a model file (TOML): the message carries line and column.
    #[error("{origin}: {message}")]
    ModelFileSyntax { origin: String, message: String },

    /// A semantic error in a model file: `subject` names the model, field, union or setting.
    #[error("{origin}:{line}: {subject}: {problem}")]
    ModelFile {
        origin: String,
        /// 1-based line of the offending definition, `?` when unknown.
        line: String,
        subject: String,
        problem: String,
    },
}
