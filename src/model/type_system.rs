//! The schema as a plain list of type definitions: the one shape both SDL and introspection JSON
//! are read into, so that deriving the content model from it is written once (`derive`).

use std::collections::HashMap;

/// The type definitions of a GraphQL schema, in source order.
#[derive(Debug, Default)]
pub(crate) struct TypeSystem {
    /// Name of the query root type (`Query` unless the schema says otherwise).
    pub query_type: Option<String>,
    /// Name of the mutation root type, if the schema has one.
    pub mutation_type: Option<String>,
    pub types: Vec<TypeDef>,
    index: HashMap<String, usize>,
}

#[derive(Debug)]
pub(crate) struct TypeDef {
    pub name: String,
    pub description: Option<String>,
    pub kind: TypeKind,
}

#[derive(Debug)]
pub(crate) enum TypeKind {
    Scalar,
    Object {
        interfaces: Vec<String>,
        fields: Vec<FieldDef>,
    },
    Interface,
    Union {
        members: Vec<String>,
    },
    Enum {
        values: Vec<EnumValueDef>,
    },
    Input {
        fields: Vec<InputFieldDef>,
    },
}

#[derive(Debug)]
pub(crate) struct FieldDef {
    pub name: String,
    pub description: Option<String>,
    pub ty: TypeRef,
    /// Carries the `@remote` directive (only visible in SDL; introspection hides directives).
    pub remote: bool,
}

#[derive(Debug)]
pub(crate) struct InputFieldDef {
    pub name: String,
    pub description: Option<String>,
    pub ty: TypeRef,
}

#[derive(Debug)]
pub(crate) struct EnumValueDef {
    pub name: String,
    pub description: Option<String>,
}

/// A field's type reduced to what the content model needs: `[T!]!` → `T`, list, non-null.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TypeRef {
    pub name: String,
    pub list: bool,
    /// The outermost type is non-null (`T!` or `[T]!`).
    pub non_null: bool,
}

impl TypeSystem {
    pub fn new(query_type: Option<String>, mutation_type: Option<String>) -> Self {
        TypeSystem {
            query_type,
            mutation_type,
            ..TypeSystem::default()
        }
    }

    pub fn push(&mut self, def: TypeDef) {
        self.index.insert(def.name.clone(), self.types.len());
        self.types.push(def);
    }

    pub fn get(&self, name: &str) -> Option<&TypeDef> {
        self.index.get(name).map(|&i| &self.types[i])
    }

    pub fn input_fields(&self, name: &str) -> Option<&[InputFieldDef]> {
        match self.get(name).map(|t| &t.kind) {
            Some(TypeKind::Input { fields }) => Some(fields),
            _ => None,
        }
    }

    pub fn enum_values(&self, name: &str) -> Option<&[EnumValueDef]> {
        match self.get(name).map(|t| &t.kind) {
            Some(TypeKind::Enum { values }) => Some(values),
            _ => None,
        }
    }
}

impl TypeDef {
    pub fn implements(&self, interface: &str) -> bool {
        matches!(&self.kind, TypeKind::Object { interfaces, .. } if interfaces.iter().any(|i| i == interface))
    }
}
