//! Which field shows a relation from the other side: pairing each relation end (`Event.talks`)
//! with its reverse field on each target (`Talk.event`), exactly or not at all.
//!
//! Hygraph's schema does not say which field is the reverse of which; stagesync must not guess,
//! because a wrong pair is silent: the side it thinks the other one writes is never written. The
//! rules, in order, per pair of models:
//! 1. **Config.** A `[relations]` entry states a pair (`"Block.preview" = "Asset.previewBlock"`)
//!    or an end with no reverse (`"Post.related" = "one-way"`); a model file's `reverse` is
//!    kept as declared.
//! 2. **Types.** An end whose only candidate on the target is a field whose only candidate back
//!    is this end pairs with it: one field each way between two models, or, per member, a union
//!    relation whose members each have exactly one field back to the owner (typed as the owner or
//!    as a union holding it, list or not). Members may name their fields differently
//!    (`Article.pages`, `Video.appearsOn`). Relations of a model with itself are never paired by
//!    types: two self-relations are as likely two one-way relations as one two-way relation.
//! 3. **Naming**, where types leave several candidates: Hygraph's names for reverse fields —
//!    `<model><Field>` (`Footer.socialLinks` ↔ `PageLink.footerSocialLinks`, `Product.image` ↔
//!    `Asset.productImage`), GraphCMS's older `<field><Model>` (`Block.preview` ↔
//!    `Asset.previewBlock`) and `Union_<field>_<reverse>` union names, and both fields named by
//!    the API id of the model they point to (`Event.talks` ↔ `Talk.event`). A pair is decided
//!    only when the name singles it out from both sides. Whatever a decision leaves behind is
//!    paired by types again (`Block.asset` ↔ `Asset.relatedBlock` once `preview` is paired), and
//!    shown as decided by the rule that made it possible.
//! 4. An end with candidates left is **undecided**; one with none is **one-way**.
//!
//! An undecided end is never dropped: the engine treats it as its own one-way relation, read,
//! written and verified from its side, so each side of the relation is synced as the data of its
//! own entries (if the two are in fact one relation, writing both sides writes the same edges
//! twice). `stagesync schema` warns about each, naming the `[relations]` entry that decides it.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::{default_singular, upper_first, Cardinality, FieldKind, Model, PairedBy, Pairing};

/// `Model.field`, as written in a `[relations]` entry.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FieldRef {
    pub model: String,
    pub field: String,
}

impl FieldRef {
    /// Parses `Model.field`; `None` for anything else.
    pub fn parse(text: &str) -> Option<FieldRef> {
        let (model, field) = text.trim().split_once('.')?;
        let word = |s: &str| {
            s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        };
        (word(model) && word(field)).then(|| FieldRef {
            model: model.into(),
            field: field.into(),
        })
    }
}

impl std::fmt::Display for FieldRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.model, self.field)
    }
}

/// One `[relations]` entry, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RelationRule {
    /// These two fields show one relation from its two sides.
    Pair(FieldRef, FieldRef),
    /// No field shows this relation from the other side.
    OneWay(FieldRef),
}

/// One relation end, as the pairing sees it.
struct End {
    model: String,
    field: String,
    targets: Vec<String>,
    list: bool,
    union: Option<String>,
}

/// A slot: one end, toward one of its targets.
type Slot = (usize, String);

#[derive(Debug, Clone)]
struct Decision {
    partner: Option<usize>,
    by: PairedBy,
}

/// Pairs every relation of `models` (module doc), `rules` first. Problems with the rules (names
/// the models lack, fields that do not point at each other) are returned, one line each, and
/// nothing is changed.
pub(crate) fn pair(models: &mut [Model], rules: &[RelationRule]) -> Result<(), Vec<String>> {
    let ends: Vec<End> = models
        .iter()
        .flat_map(|m| {
            m.fields.iter().filter_map(move |f| {
                f.relation().map(|r| End {
                    model: m.name.clone(),
                    field: f.name.clone(),
                    targets: r.targets.clone(),
                    list: f.list,
                    union: r.union.clone(),
                })
            })
        })
        .collect();
    let index: HashMap<(&str, &str), usize> = ends
        .iter()
        .enumerate()
        .map(|(i, e)| ((e.model.as_str(), e.field.as_str()), i))
        .collect();
    let api_ids: HashMap<&str, Vec<&str>> = models
        .iter()
        .map(|m| {
            (
                m.name.as_str(),
                vec![m.singular.as_str(), m.plural.as_str()],
            )
        })
        .collect();

    let mut decided: HashMap<Slot, Decision> = HashMap::new();
    // Model pairs where config or naming decided something: what types pair there afterwards
    // was made possible by that decision and is shown as such.
    let mut enabler: HashMap<(String, String), PairedBy> = HashMap::new();
    let model_pair = |a: &str, b: &str| {
        if a <= b {
            (a.to_owned(), b.to_owned())
        } else {
            (b.to_owned(), a.to_owned())
        }
    };

    // 1. Config, and what a model file declared.
    let mut problems = Vec::new();
    let mut ruled: BTreeSet<usize> = BTreeSet::new();
    let find = |r: &FieldRef, problems: &mut Vec<String>| -> Option<usize> {
        let Some(model) = models.iter().find(|m| m.name == r.model) else {
            problems.push(format!(
                "relations: `{r}`: the schema has no model `{}`",
                r.model
            ));
            return None;
        };
        match model.field(&r.field) {
            None => {
                problems.push(format!(
                    "relations: `{r}`: model `{}` has no field `{}`",
                    r.model, r.field
                ));
                None
            }
            Some(f) if f.relation().is_none() => {
                problems.push(format!("relations: `{r}` is not a relation field"));
                None
            }
            Some(_) => index.get(&(r.model.as_str(), r.field.as_str())).copied(),
        }
    };
    let mut rule_slots: Vec<(Slot, Decision)> = Vec::new();
    for rule in rules {
        match rule {
            RelationRule::Pair(a, b) => {
                let (Some(ea), Some(eb)) = (find(a, &mut problems), find(b, &mut problems)) else {
                    continue;
                };
                let mut ok = true;
                for (x, y, ex) in [(a, b, ea), (b, a, eb)] {
                    if !ends[ex].targets.contains(&y.model) {
                        problems.push(format!(
                            "relations: `{x}` does not point at `{}` (it points at {}), so it cannot pair with `{y}`",
                            y.model,
                            ends[ex].targets.join(" | ")
                        ));
                        ok = false;
                    }
                }
                if ea == eb {
                    problems.push(format!("relations: `{a}` cannot pair with itself"));
                    ok = false;
                }
                if !ok {
                    continue;
                }
                for (slot, partner) in [((ea, b.model.clone()), eb), ((eb, a.model.clone()), ea)] {
                    if rule_slots.iter().any(|(s, _)| *s == slot) {
                        problems.push(format!(
                            "relations: `{}` toward `{}` is paired twice; keep one entry",
                            FieldRef {
                                model: ends[slot.0].model.clone(),
                                field: ends[slot.0].field.clone()
                            },
                            slot.1
                        ));
                        continue;
                    }
                    rule_slots.push((
                        slot,
                        Decision {
                            partner: Some(partner),
                            by: PairedBy::Config,
                        },
                    ));
                }
                ruled.extend([ea, eb]);
            }
            RelationRule::OneWay(a) => {
                let Some(ea) = find(a, &mut problems) else {
                    continue;
                };
                for t in &ends[ea].targets {
                    let slot = (ea, t.clone());
                    if rule_slots.iter().any(|(s, _)| *s == slot) {
                        problems.push(format!(
                            "relations: `{a}` is declared one-way and paired; keep one entry"
                        ));
                        continue;
                    }
                    rule_slots.push((
                        slot,
                        Decision {
                            partner: None,
                            by: PairedBy::Config,
                        },
                    ));
                }
                ruled.insert(ea);
            }
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    for (slot, decision) in rule_slots {
        if let Some(p) = decision.partner {
            enabler.insert(
                model_pair(&ends[slot.0].model, &ends[p].model),
                PairedBy::Config,
            );
        }
        decided.insert(slot, decision);
    }
    // A model file states every relation's reverse (or that it has none): keep what it said.
    let declared = models
        .iter()
        .flat_map(|m| m.fields.iter().filter_map(|f| f.relation()))
        .flat_map(|r| &r.pairing)
        .any(|p| p.by == PairedBy::Declared);
    if declared {
        for (e, end) in ends.iter().enumerate() {
            if ruled.contains(&e) {
                continue;
            }
            let relation = models
                .iter()
                .find(|m| m.name == end.model)
                .and_then(|m| m.field(&end.field))
                .and_then(|f| f.relation());
            for p in relation.into_iter().flat_map(|r| &r.pairing) {
                let partner = p
                    .reverse
                    .as_deref()
                    .and_then(|f| index.get(&(p.target.as_str(), f)).copied());
                decided
                    .entry((e, p.target.clone()))
                    .or_insert(Decision { partner, by: p.by });
            }
        }
    }

    // 2.–3. Types and naming, until neither decides anything more.
    let candidates = |decided: &HashMap<Slot, Decision>, e: usize, target: &str| -> Vec<usize> {
        let owner = &ends[e].model;
        (0..ends.len())
            .filter(|&c| c != e)
            .filter(|&c| ends[c].model == target && ends[c].targets.contains(owner))
            .filter(|&c| !decided.contains_key(&(c, owner.clone())))
            .collect()
    };
    let named = |e: usize, c: usize| {
        let (e, c) = (&ends[e], &ends[c]);
        let after = |a: &End, b: &End| {
            let tail = upper_first(&a.field);
            let singular = api_ids
                .get(a.model.as_str())
                .and_then(|ids| ids.first().copied())
                .unwrap_or_default();
            b.field == format!("{singular}{tail}")
                || b.field == format!("{}{tail}", default_singular(&a.model))
                || b.field == format!("{}{}", a.field, a.model)
                || a.union.as_deref() == Some(format!("Union_{}_{}", a.field, b.field).as_str())
        };
        let api_id = |a: &End, b: &End| {
            api_ids
                .get(a.model.as_str())
                .is_some_and(|ids| ids.contains(&b.field.as_str()))
        };
        after(e, c) || after(c, e) || (api_id(e, c) && api_id(c, e))
    };
    let open_slots = |decided: &HashMap<Slot, Decision>| -> Vec<Slot> {
        ends.iter()
            .enumerate()
            .flat_map(|(e, end)| end.targets.iter().map(move |t| (e, t.clone())))
            .filter(|s| !decided.contains_key(s))
            .collect()
    };
    loop {
        // Types, to a fixed point (a pair decided by types never frees another: see module doc).
        for (e, target) in open_slots(&decided) {
            if decided.contains_key(&(e, target.clone())) || ends[e].model == target {
                continue;
            }
            let [c] = candidates(&decided, e, &target)[..] else {
                continue;
            };
            let owner = ends[e].model.clone();
            if candidates(&decided, c, &owner) != [e] {
                continue;
            }
            let by = enabler
                .get(&model_pair(&owner, &target))
                .copied()
                .unwrap_or(PairedBy::Types);
            decided.insert(
                (e, target.clone()),
                Decision {
                    partner: Some(c),
                    by,
                },
            );
            decided.insert(
                (c, owner),
                Decision {
                    partner: Some(e),
                    by,
                },
            );
        }
        // Naming, all decisions on the same view (each singles out its pair from both sides, so
        // no two of them share an end).
        let mut found: Vec<(Slot, Slot)> = Vec::new();
        for (e, target) in open_slots(&decided) {
            let named_candidates: Vec<usize> = candidates(&decided, e, &target)
                .into_iter()
                .filter(|&c| named(e, c))
                .collect();
            let [c] = named_candidates[..] else {
                continue;
            };
            let owner = ends[e].model.clone();
            let back: Vec<usize> = candidates(&decided, c, &owner)
                .into_iter()
                .filter(|&x| named(c, x))
                .collect();
            if back == [e] {
                found.push(((e, target), (c, owner)));
            }
        }
        if found.is_empty() {
            break;
        }
        for ((e, target), (c, owner)) in found {
            enabler.insert(model_pair(&owner, &target), PairedBy::Naming);
            decided.insert(
                (e, target),
                Decision {
                    partner: Some(c),
                    by: PairedBy::Naming,
                },
            );
            decided.insert(
                (c, owner),
                Decision {
                    partner: Some(e),
                    by: PairedBy::Naming,
                },
            );
        }
    }

    // 4. What is left.
    let left: Vec<(Slot, PairedBy)> = open_slots(&decided)
        .into_iter()
        .map(|(e, target)| {
            let by = if candidates(&decided, e, &target).is_empty() {
                PairedBy::OneWay
            } else {
                PairedBy::Undecided
            };
            ((e, target), by)
        })
        .collect();
    for (slot, by) in left {
        decided.insert(slot, Decision { partner: None, by });
    }

    let mut resolved: BTreeMap<(String, String), (Vec<Pairing>, Cardinality)> = BTreeMap::new();
    for (e, end) in ends.iter().enumerate() {
        let mut pairing = Vec::new();
        let mut partner_list = None;
        for t in &end.targets {
            let d = &decided[&(e, t.clone())];
            let reverse = d.partner.map(|p| {
                *partner_list.get_or_insert(false) |= ends[p].list;
                ends[p].field.clone()
            });
            pairing.push(Pairing {
                target: t.clone(),
                reverse,
                by: d.by,
            });
        }
        resolved.insert(
            (end.model.clone(), end.field.clone()),
            (pairing, Cardinality::of(end.list, partner_list)),
        );
    }
    for model in models.iter_mut() {
        for field in &mut model.fields {
            if let FieldKind::Relation(relation) = &mut field.kind {
                if let Some((pairing, card)) =
                    resolved.remove(&(model.name.clone(), field.name.clone()))
                {
                    relation.pairing = pairing;
                    relation.cardinality = card;
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::{from_sdl, Cardinality, ContentModel, PairedBy};
    use super::{FieldRef, RelationRule};

    const PRELUDE: &str = r#"
interface Node { id: ID! stage: Stage! }
enum Locale { """System locale""" en }
enum Stage { DRAFT PUBLISHED }
"#;

    fn derive(types: &str) -> ContentModel {
        from_sdl(&format!("{PRELUDE}{types}"), "test.graphql").unwrap()
    }

    /// `(reverse, how)` of `model.field` toward `target`.
    fn pairing(
        content: &ContentModel,
        model: &str,
        field: &str,
        target: &str,
    ) -> (Option<String>, PairedBy) {
        let r = content
            .model(model)
            .unwrap()
            .field(field)
            .unwrap()
            .relation()
            .unwrap();
        let p = r.pairing.iter().find(|p| p.target == target).unwrap();
        (p.reverse.clone(), p.by)
    }

    fn some(s: &str) -> Option<String> {
        Some(s.to_owned())
    }

    fn field(text: &str) -> FieldRef {
        FieldRef::parse(text).unwrap()
    }

    #[test]
    fn one_field_each_way_pairs_by_types_whatever_the_names() {
        let content = derive(
            r#"
type Shelf implements Node { id: ID! stage: Stage! holds: [Book!]! }
type Book implements Node { id: ID! stage: Stage! restsOn: Shelf }
"#,
        );
        assert_eq!(
            pairing(&content, "Shelf", "holds", "Book"),
            (some("restsOn"), PairedBy::Types)
        );
        assert_eq!(
            pairing(&content, "Book", "restsOn", "Shelf"),
            (some("holds"), PairedBy::Types)
        );
        let holds = content.model("Shelf").unwrap().field("holds").unwrap();
        assert_eq!(
            holds.relation().unwrap().cardinality,
            Cardinality::OneToMany
        );
    }

    #[test]
    fn a_union_pairs_per_member_with_each_members_own_field() {
        let content = derive(
            r#"
type Page implements Node { id: ID! stage: Stage! content: [PageContent!]! }
union PageContent = Article | Video | Quote | Gallery
type Article implements Node { id: ID! stage: Stage! pages: [Page!]! }
type Video implements Node { id: ID! stage: Stage! appearsOn: [Page!]! }
type Quote implements Node { id: ID! stage: Stage! page: Page }
type Gallery implements Node { id: ID! stage: Stage! }
"#,
        );
        assert_eq!(
            pairing(&content, "Page", "content", "Article"),
            (some("pages"), PairedBy::Types)
        );
        assert_eq!(
            pairing(&content, "Page", "content", "Video"),
            (some("appearsOn"), PairedBy::Types)
        );
        assert_eq!(
            pairing(&content, "Page", "content", "Quote"),
            (some("page"), PairedBy::Types)
        );
        assert_eq!(
            pairing(&content, "Page", "content", "Gallery"),
            (None, PairedBy::OneWay)
        );
        for (member, back) in [
            ("Article", "pages"),
            ("Video", "appearsOn"),
            ("Quote", "page"),
        ] {
            assert_eq!(
                pairing(&content, member, back, "Page"),
                (some("content"), PairedBy::Types),
                "{member}.{back}"
            );
        }
        let r = content.model("Page").unwrap().field("content").unwrap();
        let r = r.relation().unwrap();
        assert_eq!(r.reverse(), None, "members name their fields differently");
        assert_eq!(r.reverse_for("Video"), Some("appearsOn"));
        assert!(!r.fully_paired());
    }

    #[test]
    fn a_member_field_typed_as_a_union_holding_the_owner_pairs_too() {
        let content = derive(
            r#"
type Page implements Node { id: ID! stage: Stage! blocks: [Block!]! }
type Post implements Node { id: ID! stage: Stage! }
type Block implements Node { id: ID! stage: Stage! usedIn: [Container!]! }
union Container = Page | Post
"#,
        );
        assert_eq!(
            pairing(&content, "Page", "blocks", "Block"),
            (some("usedIn"), PairedBy::Types)
        );
        assert_eq!(
            pairing(&content, "Block", "usedIn", "Page"),
            (some("blocks"), PairedBy::Types)
        );
        assert_eq!(
            pairing(&content, "Block", "usedIn", "Post"),
            (None, PairedBy::OneWay)
        );
    }

    #[test]
    fn two_relations_between_two_models_pair_by_hygraph_naming() {
        let content = derive(
            r#"
type Footer implements Node { id: ID! stage: Stage! socialLinks: [PageLink!]! legalLinks: [PageLink!]! }
type PageLink implements Node { id: ID! stage: Stage! footerLegalLinks: [Footer!]! footerSocialLinks: [Footer!]! }
"#,
        );
        assert_eq!(
            pairing(&content, "Footer", "socialLinks", "PageLink"),
            (some("footerSocialLinks"), PairedBy::Naming)
        );
        assert_eq!(
            pairing(&content, "Footer", "legalLinks", "PageLink"),
            (some("footerLegalLinks"), PairedBy::Naming)
        );
        assert_eq!(
            pairing(&content, "PageLink", "footerSocialLinks", "Footer"),
            (some("socialLinks"), PairedBy::Naming)
        );
    }

    #[test]
    fn graphcms_field_model_naming_decides_and_the_rest_pairs_after_it() {
        // As in the bond starter: `Block.preview` ↔ `Asset.previewBlock` by name, which leaves
        // one field each way for `Block.asset` ↔ `Asset.relatedBlock`.
        let content = derive(
            r#"
type Asset implements Node { id: ID! stage: Stage! url: String! relatedBlock: [Block!]! previewBlock: [Block!]! }
type Block implements Node { id: ID! stage: Stage! asset: Asset preview: Asset }
input AssetCreateInput { handle: String! }
"#,
        );
        assert_eq!(
            pairing(&content, "Block", "preview", "Asset"),
            (some("previewBlock"), PairedBy::Naming)
        );
        assert_eq!(
            pairing(&content, "Block", "asset", "Asset"),
            (some("relatedBlock"), PairedBy::Naming)
        );
        assert_eq!(
            pairing(&content, "Asset", "relatedBlock", "Block"),
            (some("asset"), PairedBy::Naming)
        );
    }

    #[test]
    fn api_id_naming_decides_only_when_both_fields_follow_it() {
        // `Talk.venue` also reaches `Event`; `Event.talks` ↔ `Talk.event` are each named after
        // the other model's API id, `venue` is not.
        let content = derive(
            r#"
type Event implements Node { id: ID! stage: Stage! talks: [Talk!]! }
type Conference implements Node { id: ID! stage: Stage! name: String }
type Talk implements Node { id: ID! stage: Stage! event: Event venue: TalkVenue }
union TalkVenue = Event | Conference
"#,
        );
        assert_eq!(
            pairing(&content, "Event", "talks", "Talk"),
            (some("event"), PairedBy::Naming)
        );
        assert_eq!(
            pairing(&content, "Talk", "venue", "Event"),
            (None, PairedBy::OneWay)
        );
        assert_eq!(
            pairing(&content, "Talk", "venue", "Conference"),
            (None, PairedBy::OneWay)
        );
    }

    #[test]
    fn ambiguous_pairs_are_undecided_not_guessed() {
        let content = derive(
            r#"
type Post implements Node { id: ID! stage: Stage! writer: Person editor: Person }
type Person implements Node { id: ID! stage: Stage! written: [Post!]! edited: [Post!]! }
"#,
        );
        for (model, field, target) in [
            ("Post", "writer", "Person"),
            ("Post", "editor", "Person"),
            ("Person", "written", "Post"),
            ("Person", "edited", "Post"),
        ] {
            assert_eq!(
                pairing(&content, model, field, target),
                (None, PairedBy::Undecided),
                "{model}.{field}"
            );
            let r = content.model(model).unwrap().field(field).unwrap();
            assert_eq!(r.relation().unwrap().cardinality, Cardinality::OneWay);
        }
    }

    #[test]
    fn self_relations_pair_only_by_naming_or_config() {
        let content = derive(
            r#"
type Category implements Node { id: ID! stage: Stage! parent: Category children: [Category!]! }
type Talk implements Node { id: ID! stage: Stage! related: [Talk!]! }
type Collection implements Node { id: ID! stage: Stage! blocks: [Union_blocks_relatedCollection!]! relatedCollection: [Collection!]! }
type Block implements Node { id: ID! stage: Stage! relatedCollection: [Collection!]! }
union Union_blocks_relatedCollection = Block | Collection
"#,
        );
        assert_eq!(
            pairing(&content, "Category", "parent", "Category"),
            (None, PairedBy::Undecided)
        );
        assert_eq!(
            pairing(&content, "Talk", "related", "Talk"),
            (None, PairedBy::OneWay)
        );
        // GraphCMS named the union after the field and its members' reverse field.
        assert_eq!(
            pairing(&content, "Collection", "blocks", "Collection"),
            (some("relatedCollection"), PairedBy::Naming)
        );
        assert_eq!(
            pairing(&content, "Collection", "blocks", "Block"),
            (some("relatedCollection"), PairedBy::Types)
        );
        let blocks = content
            .model("Collection")
            .unwrap()
            .field("blocks")
            .unwrap();
        assert_eq!(
            blocks.relation().unwrap().reverse(),
            Some("relatedCollection")
        );
    }

    #[test]
    fn config_states_a_pair_and_the_rest_follows() {
        let mut content = derive(
            r#"
type Post implements Node { id: ID! stage: Stage! writer: Person editor: Person }
type Person implements Node { id: ID! stage: Stage! written: [Post!]! edited: [Post!]! }
"#,
        );
        content
            .apply_relations(&[RelationRule::Pair(
                field("Post.writer"),
                field("Person.written"),
            )])
            .unwrap();
        assert_eq!(
            pairing(&content, "Post", "writer", "Person"),
            (some("written"), PairedBy::Config)
        );
        assert_eq!(
            pairing(&content, "Person", "written", "Post"),
            (some("writer"), PairedBy::Config)
        );
        // One field each way is left: paired, and shown as made possible by the config.
        assert_eq!(
            pairing(&content, "Post", "editor", "Person"),
            (some("edited"), PairedBy::Config)
        );
        let writer = content.model("Post").unwrap().field("writer").unwrap();
        assert_eq!(
            writer.relation().unwrap().cardinality,
            Cardinality::ManyToOne
        );
    }

    #[test]
    fn config_declares_one_way() {
        let mut content = derive(
            r#"
type Shelf implements Node { id: ID! stage: Stage! holds: [Book!]! }
type Book implements Node { id: ID! stage: Stage! restsOn: Shelf }
"#,
        );
        content
            .apply_relations(&[RelationRule::OneWay(field("Shelf.holds"))])
            .unwrap();
        assert_eq!(
            pairing(&content, "Shelf", "holds", "Book"),
            (None, PairedBy::Config)
        );
        assert_eq!(
            pairing(&content, "Book", "restsOn", "Shelf"),
            (None, PairedBy::OneWay)
        );
    }

    #[test]
    fn config_naming_what_the_schema_lacks_is_refused_and_changes_nothing() {
        let mut content = derive(
            r#"
type Shelf implements Node { id: ID! stage: Stage! holds: [Book!]! title: String }
type Book implements Node { id: ID! stage: Stage! restsOn: Shelf }
"#,
        );
        let before = content.clone();
        let problems = content
            .apply_relations(&[
                RelationRule::Pair(field("Shelf.holds"), field("Bok.restsOn")),
                RelationRule::Pair(field("Shelf.hold"), field("Book.restsOn")),
                RelationRule::OneWay(field("Shelf.title")),
                RelationRule::Pair(field("Shelf.holds"), field("Shelf.holds")),
            ])
            .unwrap_err();
        let text = problems.join("\n");
        for needle in [
            "no model `Bok`",
            "has no field `hold`",
            "`Shelf.title` is not a relation",
            "does not point at `Shelf`",
        ] {
            assert!(text.contains(needle), "{needle} missing in {text}");
        }
        assert_eq!(content, before);
    }

    #[test]
    fn field_refs_parse_model_dot_field_only() {
        assert_eq!(
            FieldRef::parse("Block.preview"),
            Some(FieldRef {
                model: "Block".into(),
                field: "preview".into()
            })
        );
        for bad in ["Block", "Block.", ".preview", "Block.pre view", "a.b.c"] {
            assert_eq!(FieldRef::parse(bad), None, "{bad}");
        }
    }
}
