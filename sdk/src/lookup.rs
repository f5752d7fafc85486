//! Helpers for `lookup`: apply a query's `id` or `q` to a list of items, the
//! way usagers expect to search (case and French accents ignored).

use crate::{LookupItem, LookupQuery};

/// Keeps the item whose id is `query.id` when it is set; otherwise the items
/// whose text contains `query.q` (case- and accent-insensitive); otherwise all.
pub fn filter(items: Vec<LookupItem>, query: &LookupQuery) -> Vec<LookupItem> {
    if let Some(id) = &query.id {
        return items.into_iter().filter(|i| &i.id == id).collect();
    }
    match query.q.as_deref().map(fold).filter(|q| !q.is_empty()) {
        Some(q) => items
            .into_iter()
            .filter(|i| fold(&i.text).contains(&q))
            .collect(),
        None => items,
    }
}

/// The value of parameter `name` of the query.
pub fn param<'a>(query: &'a LookupQuery, name: &str) -> Option<&'a str> {
    query
        .params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.trim().is_empty())
}

/// Lowercases and strips French diacritics, for comparisons.
pub fn fold(text: &str) -> String {
    text.trim()
        .chars()
        .flat_map(char::to_lowercase)
        .map(|c| match c {
            'à' | 'â' | 'ä' | 'á' => 'a',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'î' | 'ï' | 'í' => 'i',
            'ô' | 'ö' | 'ó' => 'o',
            'ù' | 'û' | 'ü' | 'ú' => 'u',
            'ç' => 'c',
            'ÿ' => 'y',
            c => c,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items() -> Vec<LookupItem> {
        ["Éclairage public", "Voirie - nid de poule", "Espaces verts"]
            .iter()
            .enumerate()
            .map(|(i, t)| LookupItem {
                id: i.to_string(),
                text: (*t).to_string(),
                extra: None,
            })
            .collect()
    }

    fn query(q: Option<&str>, id: Option<&str>) -> LookupQuery {
        LookupQuery {
            source: "s".into(),
            q: q.map(Into::into),
            id: id.map(Into::into),
            params: vec![],
        }
    }

    #[test]
    fn search_ignores_case_and_accents() {
        let found = filter(items(), &query(Some("ECLAIR"), None));
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].text, "Éclairage public");
    }

    #[test]
    fn id_fetches_exactly_one_item() {
        let found = filter(items(), &query(Some("ignored"), Some("2")));
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].text, "Espaces verts");
    }

    #[test]
    fn empty_search_keeps_everything() {
        assert_eq!(filter(items(), &query(Some("  "), None)).len(), 3);
    }
}
