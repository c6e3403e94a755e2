//! The order the content phase writes models in. Hygraph refuses a create that leaves a required
//! relation without a target, so the create connects it (see `apply::content`), and the target
//! must already have a destination id when its dependents' creates are built. Models are sorted
//! into levels — assets first, then each model one level after the targets of its required
//! relations — and a level is written only once the levels before it are acknowledged. A cycle of
//! required relations could never be created, and is a configuration error naming it.
//!
//! Not ordered: relations inside components (written with the edges, once every target exists,
//! see `shape`) and assets' own
//! required relations (an asset is created by its upload, which cannot connect anything).

use crate::model::{Field, FieldKind, Model};

use super::shape::Shape;

/// The required relations a shape's creates connect: relation fields written from this side
/// (see `shape::owns`, which gives a required relation to the side requiring it) that the
/// source's or the destination's schema requires on create.
pub fn required_fields<'m>(shape: &Shape<'m>, dest: Option<&Model>) -> Vec<&'m Field> {
    required_in(shape, dest, &shape.owned)
}

/// Every required relation of a shape, also those written from the other side (both sides of
/// a relation required: each create needs the other entry first, a cycle).
pub fn all_required<'m>(shape: &Shape<'m>, dest: Option<&Model>) -> Vec<&'m Field> {
    let mut fields = required_in(shape, dest, &shape.owned);
    fields.extend(required_in(shape, dest, &shape.reverse));
    fields
}

fn required_in<'m>(
    shape: &Shape<'m>,
    dest: Option<&Model>,
    fields: &[&'m Field],
) -> Vec<&'m Field> {
    if shape.is_asset() {
        return Vec::new();
    }
    fields
        .iter()
        .copied()
        .filter(|f| matches!(f.kind, FieldKind::Relation(_)) && f.is_writable())
        .filter(|f| {
            f.required
                || dest
                    .and_then(|m| m.field(&f.name))
                    .is_some_and(|d| d.required)
        })
        .collect()
}

/// The level of each shape (same order): 0 for assets, else one more than the highest level
/// among the synced targets of its required relations ([`all_required`]; 1 without any).
/// `Err`: a cycle, as its steps (`Post.author → Author`), each required relation leading to the
/// next.
pub fn levels(shapes: &[Shape<'_>], required: &[Vec<&Field>]) -> Result<Vec<usize>, Vec<String>> {
    let names: Vec<&str> = shapes.iter().map(|s| s.model.name.as_str()).collect();
    let deps: Vec<Vec<(&str, usize)>> = required
        .iter()
        .map(|fields| {
            fields
                .iter()
                .flat_map(|f| {
                    let targets = f.relation().map(|r| r.targets.as_slice()).unwrap_or(&[]);
                    targets
                        .iter()
                        .filter_map(|t| names.iter().position(|n| n == t))
                        .map(|t| (f.name.as_str(), t))
                        .collect::<Vec<_>>()
                })
                .collect()
        })
        .collect();
    let mut walk = Walk {
        names: &names,
        assets: shapes.iter().map(Shape::is_asset).collect(),
        deps: &deps,
        marks: vec![Mark::New; shapes.len()],
        levels: vec![0; shapes.len()],
        path: Vec::new(),
    };
    for m in 0..shapes.len() {
        walk.visit(m)?;
    }
    Ok(walk.levels)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mark {
    New,
    /// On the path being walked: meeting it again closes a cycle.
    Open,
    Done,
}

/// A depth-first walk over the required relations.
struct Walk<'a> {
    names: &'a [&'a str],
    assets: Vec<bool>,
    deps: &'a [Vec<(&'a str, usize)>],
    marks: Vec<Mark>,
    levels: Vec<usize>,
    /// The steps walked to the current model: (model, field, target).
    path: Vec<(usize, &'a str, usize)>,
}

impl Walk<'_> {
    fn visit(&mut self, m: usize) -> Result<usize, Vec<String>> {
        if self.marks[m] == Mark::Done {
            return Ok(self.levels[m]);
        }
        self.marks[m] = Mark::Open;
        let mut level = if self.assets[m] { 0 } else { 1 };
        for &(field, t) in &self.deps[m] {
            self.path.push((m, field, t));
            if self.marks[t] == Mark::Open {
                let start = self
                    .path
                    .iter()
                    .position(|(from, _, _)| *from == t)
                    .unwrap_or(0);
                let mut cycle: Vec<String> = self.path[start..]
                    .iter()
                    .map(|(from, field, to)| {
                        format!("{}.{field} → {}", self.names[*from], self.names[*to])
                    })
                    .collect();
                // Named from its first step by name, whatever model the walk started at.
                let first = (0..cycle.len()).min_by_key(|i| &cycle[*i]).unwrap_or(0);
                cycle.rotate_left(first);
                return Err(cycle);
            }
            level = level.max(self.visit(t)? + 1);
            self.path.pop();
        }
        self.marks[m] = Mark::Done;
        self.levels[m] = level;
        Ok(level)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{from_model_file, ContentModel};

    fn content(text: &str) -> ContentModel {
        from_model_file(text, "test.toml").expect("the model file")
    }

    /// A model's name, level, and the required fields its creates connect.
    type Ordered = (String, usize, Vec<String>);

    fn order(content: &ContentModel) -> Result<Vec<Ordered>, Vec<String>> {
        let shapes: Vec<Shape<'_>> = content
            .models
            .iter()
            .map(|m| Shape::new(content, m))
            .collect();
        let required: Vec<Vec<&Field>> = shapes.iter().map(|s| required_fields(s, None)).collect();
        let all: Vec<Vec<&Field>> = shapes.iter().map(|s| all_required(s, None)).collect();
        let levels = levels(&shapes, &all)?;
        Ok(shapes
            .iter()
            .zip(levels)
            .zip(&required)
            .map(|((s, l), r)| {
                (
                    s.model.name.clone(),
                    l,
                    r.iter().map(|f| f.name.clone()).collect(),
                )
            })
            .collect())
    }

    const BLOG: &str = r#"
locales = ["en"]
[asset]
system = "legacy"

[[models]]
name = "Comment"
fields = [
  { name = "text", type = "String" },
  { name = "post", type = "Post", required = true, reverse = "comments" },
  { name = "mentions", type = "Author", list = true },
]

[[models]]
name = "Post"
fields = [
  { name = "slug", type = "String", required = true, unique = true },
  { name = "author", type = "Author", required = true, reverse = "posts" },
  { name = "cover", type = "Asset", required = true },
  { name = "comments", type = "Comment", list = true, reverse = "post" },
]

[[models]]
name = "Author"
fields = [
  { name = "name", type = "String", required = true, unique = true },
  { name = "posts", type = "Post", list = true, reverse = "author" },
]

[[models]]
name = "Tag"
fields = [{ name = "name", type = "String" }]
"#;

    #[test]
    fn targets_of_required_relations_come_first_assets_before_all() {
        let blog = content(BLOG);
        let order = order(&blog).unwrap();
        let level = |name: &str| order.iter().find(|(n, _, _)| n == name).unwrap().1;
        assert_eq!(level("Asset"), 0);
        assert_eq!(level("Author"), 1);
        assert_eq!(level("Tag"), 1);
        assert_eq!(level("Post"), 2, "after Author and Asset");
        assert_eq!(level("Comment"), 3, "after Post");
        let required = |name: &str| order.iter().find(|(n, _, _)| n == name).unwrap().2.clone();
        assert_eq!(required("Post"), ["author", "cover"]);
        assert_eq!(
            required("Comment"),
            ["post"],
            "an optional relation is not ordered"
        );
        assert!(required("Author").is_empty());
    }

    #[test]
    fn a_required_relation_is_written_from_the_side_that_requires_it() {
        let blog = content(BLOG);
        let owned = |model: &str| -> Vec<String> {
            let shape = Shape::new(&blog, blog.model(model).unwrap());
            shape.owned.iter().map(|f| f.name.clone()).collect()
        };
        // Without the rule the one-to-many side (`Author.posts`, `Post.comments`) writes them.
        assert!(owned("Post").contains(&"author".to_string()));
        assert!(!owned("Author").contains(&"posts".to_string()));
        assert!(owned("Comment").contains(&"post".to_string()));
        assert!(!owned("Post").contains(&"comments".to_string()));
    }

    #[test]
    fn a_cycle_of_required_relations_is_named() {
        let cyclic = content(
            r#"
locales = ["en"]
[[models]]
name = "Person"
fields = [{ name = "name", type = "String" }, { name = "team", type = "Team", required = true }]
[[models]]
name = "Team"
fields = [{ name = "name", type = "String" }, { name = "lead", type = "Person", required = true }]
[[models]]
name = "Other"
fields = [{ name = "team", type = "Team", required = true }]
"#,
        );
        let cycle = order(&cyclic).unwrap_err();
        assert_eq!(cycle, ["Person.team → Team", "Team.lead → Person"]);

        // Both sides of one relation required: the side not writing it still needs it.
        let paired = content(
            r#"
locales = ["en"]
[[models]]
name = "Person"
fields = [{ name = "team", type = "Team", required = true, reverse = "lead" }]
[[models]]
name = "Team"
fields = [{ name = "lead", type = "Person", required = true, reverse = "team" }]
"#,
        );
        assert_eq!(
            order(&paired).unwrap_err(),
            ["Person.team → Team", "Team.lead → Person"]
        );

        let itself = content(
            r#"
locales = ["en"]
[[models]]
name = "Category"
fields = [{ name = "name", type = "String" }, { name = "parent", type = "Category", required = true }]
"#,
        );
        assert_eq!(order(&itself).unwrap_err(), ["Category.parent → Category"]);
    }

    #[test]
    fn a_relation_the_destination_requires_is_connected_too() {
        let blog = content(BLOG);
        let mut dest = blog.clone();
        let tag = blog.model("Comment").unwrap();
        let shape = Shape::new(&blog, tag);
        assert_eq!(
            required_fields(&shape, dest.model("Comment"))
                .iter()
                .map(|f| f.name.as_str())
                .collect::<Vec<_>>(),
            ["post"]
        );
        let comment = dest
            .models
            .iter_mut()
            .find(|m| m.name == "Comment")
            .unwrap();
        comment
            .fields
            .iter_mut()
            .find(|f| f.name == "mentions")
            .unwrap()
            .required = true;
        assert_eq!(
            required_fields(&shape, dest.model("Comment"))
                .iter()
                .map(|f| f.name.as_str())
                .collect::<Vec<_>>(),
            ["post", "mentions"]
        );
    }
}
