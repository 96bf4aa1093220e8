//! Data files (`data` in makejinja.toml): YAML, TOML and JSON loaded as Python would load
//! them, with the position of every key and value.

mod common;
pub mod json_data;
pub mod model;
pub mod pystr;
pub mod toml_data;
pub mod yaml11;

pub use model::*;

/// Loads a data file's text according to its extension, as makejinja does: `.yaml`/`.yml`
/// (all documents merged), `.toml` and `.json`. Returns `None` for other extensions (makejinja
/// skips those files).
pub fn load_data_text(path: &std::path::Path, text: &str, file: FileId) -> Option<Result<DataNode, DataError>> {
    let ext = path.extension()?.to_str()?;
    match ext {
        "yaml" | "yml" => Some(yaml11::load_yaml(text, file)),
        "toml" => Some(toml_data::load_toml(text, file)),
        "json" => Some(json_data::load_json(text, file)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn dispatches_on_extension() {
        let yaml = load_data_text(Path::new("vars/a.yaml"), "a: yes", 1).unwrap().unwrap();
        assert_eq!(yaml.get("a").unwrap().value, DataValue::Bool(true));
        assert_eq!(yaml.loc.file, 1);
        let yml = load_data_text(Path::new("b.yml"), "a: 1\n---\nb: 2", 2).unwrap().unwrap();
        assert_eq!(yml.entries().len(), 2);
        let toml = load_data_text(Path::new("c.toml"), "a = 'x'", 3).unwrap().unwrap();
        assert_eq!(toml.get("a").unwrap().as_str(), Some("x"));
        let json = load_data_text(Path::new("d.json"), "{\"a\": [1]}", 4).unwrap().unwrap();
        assert_eq!(json.get("a").unwrap().loc.col, 6);
        assert!(load_data_text(Path::new("e.txt"), "a: 1", 5).is_none());
        assert!(load_data_text(Path::new("noext"), "a: 1", 5).is_none());
        assert!(load_data_text(Path::new("f.YAML"), "a: 1", 5).is_none());
        let err = load_data_text(Path::new("g.json"), "[]", 6).unwrap().unwrap_err();
        assert_eq!(err.message, "top-level of a data document must be a mapping");
    }
}
