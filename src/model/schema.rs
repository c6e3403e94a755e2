//! Reading a Content API schema — SDL text or an introspection answer — into the shared
//! [`TypeSystem`], then deriving the content model from it (see `derive` for the rules).
//!
//! SDL is parsed with apollo-compiler without validation: Hygraph's exported schemas carry
//! quirks (empty `""""""` descriptions, directives used before their definition, ...) that a
//! strict validator may reject but that do not affect the content model. Only syntax errors are
//! fatal; schema-building complaints (duplicates and the like) are tolerated and the partial
//! schema is used.

use apollo_compiler::schema::ExtendedType;
use serde::Deserialize;

use super::derive::derive;
use super::type_system::{
    EnumValueDef, FieldDef, InputFieldDef, TypeDef, TypeKind, TypeRef, TypeSystem,
};
use super::{ContentModel, ModelError};

/// Derives the content model from schema SDL. `origin` names the source in errors (a file path).
pub fn from_sdl(sdl: &str, origin: &str) -> Result<ContentModel, ModelError> {
    let types = read_sdl(sdl, origin)?;
    derive(&types, origin)
}

/// Derives the content model from the JSON answer of the standard introspection query, with or
/// without the `{"data": ...}` wrapper.
pub fn from_introspection(
    json: &serde_json::Value,
    origin: &str,
) -> Result<ContentModel, ModelError> {
    let types = read_introspection(json, origin)?;
    derive(&types, origin)
}

fn read_sdl(sdl: &str, origin: &str) -> Result<TypeSystem, ModelError> {
    let schema = match apollo_compiler::Schema::parse(sdl, origin) {
        Ok(schema) => schema,
        Err(with_errors) => {
            let fatal: Vec<String> = with_errors
                .errors
                .iter()
                .filter(|d| {
                    let message = d.error.to_string();
                    message.starts_with("syntax error")
                        || message.contains("recursion")
                        || message.contains("limit")
                })
                .map(|d| match d.line_column_range() {
                    Some(range) => format!("line {}: {}", range.start.line, d.error),
                    None => d.error.to_string(),
                })
                .collect();
            if !fatal.is_empty() {
                return Err(ModelError::SchemaSyntax {
                    origin: origin.into(),
                    details: fatal.into_iter().take(5).collect::<Vec<_>>().join("; "),
                });
            }
            with_errors.partial
        }
    };

    let mut types = TypeSystem::new(
        schema
            .schema_definition
            .query
            .as_ref()
            .map(|name| name.to_string()),
        schema
            .schema_definition
            .mutation
            .as_ref()
            .map(|name| name.to_string()),
    );
    for (name, def) in &schema.types {
        if def.is_built_in() {
            continue;
        }
        let description = def.description().map(|d| d.to_string());
        let kind = match def {
            ExtendedType::Scalar(_) => TypeKind::Scalar,
            ExtendedType::Interface(_) => TypeKind::Interface,
            ExtendedType::Object(object) => TypeKind::Object {
                interfaces: object
                    .implements_interfaces
                    .iter()
                    .map(|i| i.to_string())
                    .collect(),
                fields: object
                    .fields
                    .values()
                    .map(|f| FieldDef {
                        name: f.name.to_string(),
                        description: f.description.as_ref().map(|d| d.to_string()),
                        ty: sdl_type_ref(&f.ty),
                        remote: f.directives.has("remote"),
                    })
                    .collect(),
            },
            ExtendedType::Union(union) => TypeKind::Union {
                members: union.members.iter().map(|m| m.to_string()).collect(),
            },
            ExtendedType::Enum(enumeration) => TypeKind::Enum {
                values: enumeration
                    .values
                    .values()
                    .map(|v| EnumValueDef {
                        name: v.value.to_string(),
                        description: v.description.as_ref().map(|d| d.to_string()),
                    })
                    .collect(),
            },
            ExtendedType::InputObject(input) => TypeKind::Input {
                fields: input
                    .fields
                    .values()
                    .map(|f| InputFieldDef {
                        name: f.name.to_string(),
                        description: f.description.as_ref().map(|d| d.to_string()),
                        ty: sdl_type_ref(&f.ty),
                    })
                    .collect(),
            },
        };
        types.push(TypeDef {
            name: name.to_string(),
            description,
            kind,
        });
    }
    if types.query_type.is_none() && types.get("Query").is_some() {
        types.query_type = Some("Query".into());
    }
    if types.mutation_type.is_none() && types.get("Mutation").is_some() {
        types.mutation_type = Some("Mutation".into());
    }
    Ok(types)
}

fn sdl_type_ref(ty: &apollo_compiler::ast::Type) -> TypeRef {
    TypeRef {
        name: ty.inner_named_type().to_string(),
        list: ty.is_list(),
        non_null: ty.is_non_null(),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct IntroSchema {
    query_type: Option<IntroName>,
    #[serde(default)]
    mutation_type: Option<IntroName>,
    types: Vec<IntroType>,
}

#[derive(Deserialize)]
struct IntroName {
    name: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct IntroType {
    kind: String,
    name: String,
    description: Option<String>,
    fields: Option<Vec<IntroField>>,
    input_fields: Option<Vec<IntroField>>,
    interfaces: Option<Vec<IntroName>>,
    possible_types: Option<Vec<IntroName>>,
    enum_values: Option<Vec<IntroEnumValue>>,
}

#[derive(Deserialize)]
struct IntroField {
    name: String,
    description: Option<String>,
    #[serde(rename = "type")]
    ty: IntroTypeRef,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct IntroTypeRef {
    kind: String,
    name: Option<String>,
    of_type: Option<Box<IntroTypeRef>>,
}

#[derive(Deserialize)]
struct IntroEnumValue {
    name: String,
    description: Option<String>,
}

fn read_introspection(json: &serde_json::Value, origin: &str) -> Result<TypeSystem, ModelError> {
    let not_introspection = |details: String| ModelError::Introspection {
        origin: origin.into(),
        details,
    };
    let root = json.get("data").unwrap_or(json);
    let schema = root.get("__schema").unwrap_or(root);
    if schema.get("types").is_none() {
        let errors = json
            .get("errors")
            .map(|e| format!(" (the answer holds errors: {e})"))
            .unwrap_or_default();
        return Err(not_introspection(format!(
            "no `__schema.types` found{errors}"
        )));
    }
    let schema = IntroSchema::deserialize(schema).map_err(|e| not_introspection(e.to_string()))?;

    let mut types = TypeSystem::new(
        schema.query_type.map(|q| q.name),
        schema.mutation_type.map(|m| m.name),
    );
    for ty in schema.types {
        if ty.name.starts_with("__") {
            continue;
        }
        let type_ref = |field: &IntroField| {
            intro_type_ref(&field.ty).ok_or_else(|| {
                not_introspection(format!(
                    "field `{}.{}` has a type without a name",
                    ty.name, field.name
                ))
            })
        };
        let kind = match ty.kind.as_str() {
            "SCALAR" => TypeKind::Scalar,
            "INTERFACE" => TypeKind::Interface,
            "OBJECT" => TypeKind::Object {
                interfaces: ty
                    .interfaces
                    .iter()
                    .flatten()
                    .map(|i| i.name.clone())
                    .collect(),
                fields: ty
                    .fields
                    .iter()
                    .flatten()
                    .map(|f| {
                        Ok(FieldDef {
                            name: f.name.clone(),
                            description: f.description.clone(),
                            ty: type_ref(f)?,
                            remote: false,
                        })
                    })
                    .collect::<Result<_, ModelError>>()?,
            },
            "UNION" => TypeKind::Union {
                members: ty
                    .possible_types
                    .iter()
                    .flatten()
                    .map(|m| m.name.clone())
                    .collect(),
            },
            "ENUM" => TypeKind::Enum {
                values: ty
                    .enum_values
                    .iter()
                    .flatten()
                    .map(|v| EnumValueDef {
                        name: v.name.clone(),
                        description: v.description.clone(),
                    })
                    .collect(),
            },
            "INPUT_OBJECT" => TypeKind::Input {
                fields: ty
                    .input_fields
                    .iter()
                    .flatten()
                    .map(|f| {
                        Ok(InputFieldDef {
                            name: f.name.clone(),
                            description: f.description.clone(),
                            ty: type_ref(f)?,
                        })
                    })
                    .collect::<Result<_, ModelError>>()?,
            },
            other => {
                return Err(not_introspection(format!(
                    "type `{}` has unknown kind `{other}`",
                    ty.name
                )))
            }
        };
        types.push(TypeDef {
            name: ty.name,
            description: ty.description,
            kind,
        });
    }
    Ok(types)
}

fn intro_type_ref(ty: &IntroTypeRef) -> Option<TypeRef> {
    let mut current = ty;
    let non_null = current.kind == "NON_NULL";
    if non_null {
        current = current.of_type.as_deref()?;
    }
    let list = current.kind == "LIST";
    while current.kind == "NON_NULL" || current.kind == "LIST" {
        current = current.of_type.as_deref()?;
    }
    Some(TypeRef {
        name: current.name.clone()?,
        list,
        non_null,
    })
}
