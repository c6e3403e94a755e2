//! Component values in the emulator: how Hygraph's component inputs change the stored value of a
//! component field — `create`, `update`, `upsert` and `delete`, with `position` in lists, member
//! keyed inputs for component unions, components nested in components, and localized fields
//! inside components (`localizations: { create | update | upsert | delete }`).
//!
//! A stored component is a JSON object: `__typename`, its own `id`, its fields (localized ones in
//! the default locale), and `localizations: { <locale>: { field: value } }` for other locales.
//!
//! A relation field inside a component takes Hygraph's inline relation inputs: `connect` (a
//! `WhereUniqueInput`, keyed by member type for a union) in a component's create input;
//! `connect`, `disconnect` and, for lists, `set` (and `connect` with `position`) in its update
//! input. Each target must exist in the draft stage, as a top-level connect requires. The
//! component stores references, `{"nodeType": "Asset", "nodeId": "..."}` (the form rich text
//! references take, see `model::rich_text`; a list for a list field), and reads resolve them in
//! the stage read (see `views`). Nested `create`/`update`/`upsert`/`delete` of a target entry
//! through a component are answered with a clear error: the emulator does not implement them.

use serde_json::{json, Map, Value};

use crate::model::{ContentModel, Field, FieldKind, Relation};

use super::scalars::scalar_value;

/// Key of the other locales' values inside a stored component.
pub(crate) const LOCALIZATIONS: &str = "localizations";

/// What component writes need from the store: new component ids, and the target entry a
/// relation input designates.
pub(crate) trait Host {
    fn new_id(&mut self) -> String;
    /// `(typename, id)` of the draft entry `where_` (a `<Model>WhereUniqueInput`) designates
    /// in model `model`; an error naming it when there is none.
    fn target(&self, model: &str, where_: &Value) -> Result<(String, String), String>;
}

pub(crate) struct Components<'a> {
    pub cm: &'a ContentModel,
    pub host: &'a mut dyn Host,
}

type Outcome<T> = Result<T, String>;

impl Components<'_> {
    /// The new value of component field `field` after `input`. `creating`: `input` is a
    /// `...CreateOneInlineInput`/`...CreateManyInlineInput` (else an update inline input).
    pub fn apply(
        &mut self,
        field: &Field,
        old: Value,
        input: &Value,
        creating: bool,
    ) -> Outcome<Value> {
        let Some(input) = input.as_object() else {
            return Ok(Value::Null);
        };
        if field.list {
            self.apply_list(field, old, input, creating)
        } else {
            self.apply_one(field, old, input)
        }
    }

    fn apply_one(
        &mut self,
        field: &Field,
        old: Value,
        input: &Map<String, Value>,
    ) -> Outcome<Value> {
        let mut current = old;
        if input.get("delete") == Some(&Value::Bool(true)) {
            current = Value::Null;
        }
        if let Some(update) = input.get("update").filter(|v| !v.is_null()) {
            let (_, nested) = self.member(field, update)?;
            let id = where_id(nested.get("where"))?;
            if current.get("id").and_then(Value::as_str) != Some(id.as_str()) {
                return Err(not_found(field, &id));
            }
            let data = nested.get("data").cloned().unwrap_or(Value::Null);
            self.update_component(&mut current, &data)?;
        }
        if let Some(upsert) = input.get("upsert").filter(|v| !v.is_null()) {
            let (name, nested) = self.member(field, upsert)?;
            let id = where_id(nested.get("where"))?;
            let data = nested.get("data").cloned().unwrap_or(Value::Null);
            if current.get("id").and_then(Value::as_str) == Some(id.as_str()) {
                self.update_component(&mut current, data.get("update").unwrap_or(&Value::Null))?;
            } else {
                current =
                    self.create_component(&name, data.get("create").unwrap_or(&Value::Null))?;
            }
        }
        if let Some(create) = input.get("create").filter(|v| !v.is_null()) {
            let (name, data) = self.member(field, create)?;
            current = self.create_component(&name, &data)?;
        }
        Ok(current)
    }

    fn apply_list(
        &mut self,
        field: &Field,
        old: Value,
        input: &Map<String, Value>,
        creating: bool,
    ) -> Outcome<Value> {
        let mut items = match old {
            Value::Array(items) => items,
            _ => Vec::new(),
        };
        let position_of = |items: &[Value], id: &str| {
            items
                .iter()
                .position(|i| i.get("id").and_then(Value::as_str) == Some(id))
        };
        if let Some(Value::Array(deletes)) = input.get("delete") {
            for d in deletes {
                let (_, w) = self.member(field, d)?;
                let id = where_id(Some(&w))?;
                let at = position_of(&items, &id).ok_or_else(|| not_found(field, &id))?;
                items.remove(at);
            }
        }
        if let Some(Value::Array(updates)) = input.get("update") {
            for u in updates {
                let (_, nested) = self.member(field, u)?;
                let id = where_id(nested.get("where"))?;
                let at = position_of(&items, &id).ok_or_else(|| not_found(field, &id))?;
                let mut item = items.remove(at);
                self.update_component(&mut item, nested.get("data").unwrap_or(&Value::Null))?;
                let at = place(&items, nested.get("position"), Some(at))?;
                items.insert(at, item);
            }
        }
        if let Some(Value::Array(upserts)) = input.get("upsert") {
            for u in upserts {
                let (name, nested) = self.member(field, u)?;
                let id = where_id(nested.get("where"))?;
                let data = nested.get("data").cloned().unwrap_or(Value::Null);
                let (item, was) = match position_of(&items, &id) {
                    Some(at) => {
                        let mut item = items.remove(at);
                        self.update_component(
                            &mut item,
                            data.get("update").unwrap_or(&Value::Null),
                        )?;
                        (item, Some(at))
                    }
                    None => (
                        self.create_component(&name, data.get("create").unwrap_or(&Value::Null))?,
                        None,
                    ),
                };
                let at = place(&items, nested.get("position"), was)?;
                items.insert(at, item);
            }
        }
        if let Some(Value::Array(creates)) = input.get("create") {
            for c in creates {
                let (name, nested) = self.member(field, c)?;
                if creating {
                    items.push(self.create_component(&name, &nested)?);
                } else {
                    let item =
                        self.create_component(&name, nested.get("data").unwrap_or(&Value::Null))?;
                    let at = place(&items, nested.get("position"), None)?;
                    items.insert(at, item);
                }
            }
        }
        Ok(Value::Array(items))
    }

    /// The component type an input item is for, and the input inside it: unions key each item
    /// by member type name (`{ Hero: {...} }`).
    fn member(&self, field: &Field, value: &Value) -> Outcome<(String, Value)> {
        let FieldKind::Component { targets, union } = &field.kind else {
            return Err(format!("`{}` is not a component field", field.name));
        };
        if union.is_none() {
            return Ok((targets.first().cloned().unwrap_or_default(), value.clone()));
        }
        let entries: Vec<(&String, &Value)> = value
            .as_object()
            .map(|m| m.iter().filter(|(_, v)| !v.is_null()).collect())
            .unwrap_or_default();
        match entries.as_slice() {
            [(name, inner)] if targets.contains(name) => Ok(((*name).clone(), (*inner).clone())),
            _ => Err(format!(
                "an input of the component union field `{}` must name exactly one member type ({})",
                field.name,
                targets.join(", ")
            )),
        }
    }

    fn fields_of(&self, component: &str) -> Outcome<&[Field]> {
        self.cm
            .component(component)
            .map(|c| c.fields.as_slice())
            .ok_or_else(|| format!("unknown component type `{component}`"))
    }

    fn create_component(&mut self, component: &str, data: &Value) -> Outcome<Value> {
        let mut obj = Map::new();
        obj.insert("__typename".into(), Value::String(component.to_owned()));
        obj.insert("id".into(), Value::String(self.host.new_id()));
        let fields = self.fields_of(component)?.to_vec();
        for f in &fields {
            if f.required && !f.list && data.get(&f.name).is_none_or(Value::is_null) {
                return Err(format!(
                    "value for required field `{}` of component {component} is missing",
                    f.name
                ));
            }
        }
        let mut value = Value::Object(obj);
        self.write_fields(component, &fields, &mut value, data, true)?;
        Ok(value)
    }

    fn update_component(&mut self, current: &mut Value, data: &Value) -> Outcome<()> {
        let component = current
            .get("__typename")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let fields = self.fields_of(&component)?.to_vec();
        self.write_fields(&component, &fields, current, data, false)
    }

    fn write_fields(
        &mut self,
        component: &str,
        fields: &[Field],
        target: &mut Value,
        data: &Value,
        creating: bool,
    ) -> Outcome<()> {
        let Some(data) = data.as_object() else {
            return Ok(());
        };
        for (key, value) in data {
            if key == LOCALIZATIONS {
                self.localizations(component, fields, target, value)?;
                continue;
            }
            let field = fields
                .iter()
                .find(|f| &f.name == key)
                .ok_or_else(|| format!("component {component} has no field `{key}`"))?;
            let new = match &field.kind {
                FieldKind::Component { .. } => {
                    let old = target.get(key).cloned().unwrap_or(Value::Null);
                    self.apply(field, old, value, creating)?
                }
                FieldKind::Relation(rel) => {
                    let old = target.get(key).cloned().unwrap_or(Value::Null);
                    self.relation(component, field, rel, old, value, creating)?
                }
                _ => scalar_value(field, value),
            };
            if let Some(obj) = target.as_object_mut() {
                obj.insert(key.clone(), new);
            }
        }
        Ok(())
    }

    /// `localizations: { create: [{locale, data}], update: [{locale, data}], upsert: [{locale,
    /// create, update}], delete: [locale] }` of a component with localized fields.
    fn localizations(
        &mut self,
        component: &str,
        fields: &[Field],
        target: &mut Value,
        input: &Value,
    ) -> Outcome<()> {
        let Some(obj) = target.as_object_mut() else {
            return Ok(());
        };
        let mut locs = obj
            .remove(LOCALIZATIONS)
            .and_then(|v| match v {
                Value::Object(m) => Some(m),
                _ => None,
            })
            .unwrap_or_default();
        let write = |locs: &mut Map<String, Value>, locale: &str, data: &Value| -> Outcome<()> {
            let entry = locs
                .entry(locale.to_owned())
                .or_insert_with(|| Value::Object(Map::new()));
            for (k, v) in data.as_object().into_iter().flatten() {
                let f = fields
                    .iter()
                    .find(|f| &f.name == k && f.localized)
                    .ok_or_else(|| format!("component {component} has no localized field `{k}`"))?;
                if let Some(e) = entry.as_object_mut() {
                    e.insert(k.clone(), scalar_value(f, v));
                }
            }
            Ok(())
        };
        let locale_of = |v: &Value| v.get("locale").and_then(Value::as_str).map(str::to_owned);
        if let Some(Value::Array(deletes)) = input.get("delete") {
            for l in deletes.iter().filter_map(Value::as_str) {
                locs.remove(l);
            }
        }
        for key in ["create", "update"] {
            if let Some(Value::Array(list)) = input.get(key) {
                for item in list {
                    let locale = locale_of(item).ok_or("a localization without locale")?;
                    if key == "update" && !locs.contains_key(&locale) {
                        return Err(format!(
                            "component {component} has no localization `{locale}` to update"
                        ));
                    }
                    write(&mut locs, &locale, item.get("data").unwrap_or(&Value::Null))?;
                }
            }
        }
        if let Some(Value::Array(list)) = input.get("upsert") {
            for item in list {
                let locale = locale_of(item).ok_or("a localization without locale")?;
                let data = if locs.contains_key(&locale) {
                    item.get("update")
                } else {
                    item.get("create")
                };
                write(&mut locs, &locale, data.unwrap_or(&Value::Null))?;
            }
        }
        if !locs.is_empty() {
            obj.insert(LOCALIZATIONS.into(), Value::Object(locs));
        }
        Ok(())
    }
}

impl Components<'_> {
    /// The new references of relation field `field` of `component` after an inline relation
    /// input (`...CreateOneInlineInput`/`...CreateManyInlineInput` when `creating`, else the
    /// update forms).
    fn relation(
        &mut self,
        component: &str,
        field: &Field,
        rel: &Relation,
        old: Value,
        input: &Value,
        creating: bool,
    ) -> Outcome<Value> {
        let Some(input) = input.as_object() else {
            return Ok(if field.list {
                Value::Array(Vec::new())
            } else {
                Value::Null
            });
        };
        let place = format!("{component}.{}", field.name);
        for key in ["create", "update", "upsert", "delete"] {
            if input
                .get(key)
                .is_some_and(|v| !v.is_null() && v != &Value::Bool(false))
            {
                return Err(format!(
                    "`{key}` of an entry through the relation `{place}` inside a component is not implemented by the emulator; create or change the entry on its own and `connect` it"
                ));
            }
        }
        let allowed: &[&str] = match (creating, field.list) {
            (true, _) => &["connect"],
            (false, false) => &["connect", "disconnect"],
            (false, true) => &["connect", "disconnect", "set"],
        };
        if let Some(other) = input
            .iter()
            .find(|(k, v)| !v.is_null() && !allowed.contains(&k.as_str()))
        {
            return Err(format!(
                "`{}` is not an input of the relation `{place}` here (expected one of {})",
                other.0,
                allowed.join(", ")
            ));
        }
        let items = |v: Option<&Value>| -> Vec<Value> {
            match v {
                Some(Value::Array(a)) => a.clone(),
                Some(Value::Null) | None => Vec::new(),
                Some(other) => vec![other.clone()],
            }
        };
        let mut refs: Vec<Value> = match old {
            Value::Array(a) => a,
            Value::Null => Vec::new(),
            one => vec![one],
        };
        if let Some(set) = input.get("set").filter(|v| !v.is_null()) {
            refs = Vec::new();
            for item in items(Some(set)) {
                let r = self.reference(rel, &place, &item)?;
                if !refs.contains(&r) {
                    refs.push(r);
                }
            }
        }
        match input.get("disconnect") {
            Some(Value::Bool(true)) => refs.clear(),
            Some(Value::Array(list)) => {
                for item in list {
                    let r = self.reference(rel, &place, item)?;
                    refs.retain(|x| x != &r);
                }
            }
            _ => {}
        }
        for item in items(input.get("connect")) {
            // An update's list connect is `{where, position}`; the create form is the where.
            let (where_, position) = match item.get("where") {
                Some(w) if field.list && !creating => (w.clone(), item.get("position").cloned()),
                _ => (item.clone(), None),
            };
            let r = self.reference(rel, &place, &where_)?;
            if !field.list {
                refs = vec![r];
                continue;
            }
            refs.retain(|x| x != &r);
            let at = match position.as_ref().filter(|p| !p.is_null()) {
                Some(p) => {
                    let find = |id: &str| {
                        refs.iter()
                            .position(|x| x.get("nodeId").and_then(Value::as_str) == Some(id))
                            .ok_or_else(|| {
                                format!("position refers to `{id}`, which `{place}` does not hold")
                            })
                    };
                    if let Some(id) = p.get("after").and_then(Value::as_str) {
                        find(id)? + 1
                    } else if let Some(id) = p.get("before").and_then(Value::as_str) {
                        find(id)?
                    } else if p.get("start") == Some(&Value::Bool(true)) {
                        0
                    } else {
                        refs.len()
                    }
                }
                None => refs.len(),
            };
            refs.insert(at, r);
        }
        Ok(if field.list {
            Value::Array(refs)
        } else {
            refs.pop().unwrap_or(Value::Null)
        })
    }

    /// The stored reference to the entry a where input designates (union inputs are keyed by
    /// member type name).
    fn reference(&self, rel: &Relation, place: &str, item: &Value) -> Outcome<Value> {
        let (model, where_) = if rel.union.is_some() {
            let members: Vec<(&String, &Value)> = item
                .as_object()
                .map(|m| m.iter().filter(|(_, v)| !v.is_null()).collect())
                .unwrap_or_default();
            match members.as_slice() {
                [(name, inner)] if rel.targets.contains(name) => ((*name).clone(), (*inner).clone()),
                _ => {
                    return Err(format!(
                        "an input of the union relation `{place}` must name exactly one member type ({})",
                        rel.targets.join(", ")
                    ))
                }
            }
        } else {
            (
                rel.targets.first().cloned().unwrap_or_default(),
                item.clone(),
            )
        };
        let (ty, id) = self.host.target(&model, &where_)?;
        Ok(json!({ "nodeType": ty, "nodeId": id }))
    }
}

fn where_id(value: Option<&Value>) -> Outcome<String> {
    value
        .and_then(|w| w.get("id"))
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| "a component `where` needs an `id`".to_owned())
}

fn not_found(field: &Field, id: &str) -> String {
    format!("no component with id `{id}` in field `{}`", field.name)
}

/// Index to insert at for a `ConnectPositionInput` (`after`/`before` an id, `start`, `end`);
/// without one, an item keeps its place (`was`) or goes to the end.
fn place(items: &[Value], position: Option<&Value>, was: Option<usize>) -> Outcome<usize> {
    let find = |id: &str| {
        items
            .iter()
            .position(|i| i.get("id").and_then(Value::as_str) == Some(id))
            .ok_or_else(|| format!("position refers to component `{id}`, which is not in the list"))
    };
    let Some(p) = position.filter(|p| !p.is_null()) else {
        return Ok(was.unwrap_or(items.len()).min(items.len()));
    };
    if let Some(id) = p.get("after").and_then(Value::as_str) {
        return Ok(find(id)? + 1);
    }
    if let Some(id) = p.get("before").and_then(Value::as_str) {
        return find(id);
    }
    if p.get("start") == Some(&Value::Bool(true)) {
        return Ok(0);
    }
    Ok(items.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Access, Scalar};
    use serde_json::json;

    struct Counter(usize);

    impl Host for Counter {
        fn new_id(&mut self) -> String {
            self.0 += 1;
            format!("c{}", self.0)
        }
        fn target(&self, model: &str, where_: &Value) -> Result<(String, String), String> {
            match where_.get("id").and_then(Value::as_str) {
                Some(id) if id.starts_with("known") => Ok((model.to_owned(), id.to_owned())),
                _ => Err(format!("no {model} matches {where_}")),
            }
        }
    }

    fn scalar(name: &str, localized: bool) -> Field {
        Field {
            name: name.into(),
            kind: FieldKind::Scalar {
                scalar: Scalar::String,
            },
            list: false,
            required: false,
            localized,
            unique: false,
            access: Access::Writable,
            embeds: Vec::new(),
        }
    }

    fn model() -> ContentModel {
        ContentModel {
            models: vec![],
            components: vec![
                crate::model::Component {
                    name: "Hero".into(),
                    fields: vec![scalar("title", true)],
                },
                crate::model::Component {
                    name: "Text".into(),
                    fields: vec![scalar("body", false)],
                },
            ],
            enumerations: vec![],
            locales: vec!["en".into(), "de".into()],
            default_locale: "en".into(),
            stages: vec!["DRAFT".into(), "PUBLISHED".into()],
            mutations: true,
        }
    }

    fn sections() -> Field {
        Field {
            name: "sections".into(),
            kind: FieldKind::Component {
                targets: vec!["Hero".into(), "Text".into()],
                union: Some("PageSections".into()),
            },
            list: true,
            required: false,
            localized: false,
            unique: false,
            access: Access::Writable,
            embeds: Vec::new(),
        }
    }

    #[test]
    fn list_inputs_follow_positions_and_members() {
        let cm = model();
        let mut host = Counter(0);
        let mut c = Components {
            cm: &cm,
            host: &mut host,
        };
        let f = sections();
        let v = c
            .apply(
                &f,
                Value::Null,
                &json!({"create": [{"Hero": {"title": "hi", "localizations": {"create": [{"locale": "de", "data": {"title": "hallo"}}]}}}, {"Text": {"body": "b"}}]}),
                true,
            )
            .unwrap();
        assert_eq!(v[0]["localizations"]["de"]["title"], "hallo");
        let v = c
            .apply(
                &f,
                v,
                &json!({"create": [{"Text": {"data": {"body": "first"}, "position": {"start": true}}}],
                        "update": [{"Hero": {"where": {"id": "c1"}, "data": {"title": "hey"}, "position": {"end": true}}}],
                        "delete": [{"Text": {"id": "c2"}}]}),
                false,
            )
            .unwrap();
        let order: Vec<&str> = v
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["__typename"].as_str().unwrap())
            .collect();
        assert_eq!(order, ["Text", "Hero"]);
        assert_eq!(v[1]["title"], "hey");
        assert!(c
            .apply(&f, v, &json!({"delete": [{"Text": {"id": "nope"}}]}), false)
            .is_err());
    }
}
