//! A write to an object, as the handlers take it: the request info the router worked out
//! (kind, namespace, name, subresource) and what the request carries (query, body).

use super::Params;
use crate::sim::kinds::Kind;

/// One create, replace or patch request.
#[derive(Debug, Clone, Copy)]
pub struct Write<'a> {
    pub kind: Kind,
    /// The namespace in the path, if it names one.
    pub ns: Option<&'a str>,
    /// The object's name in the path ("" for a create).
    pub name: &'a str,
    /// `status`, `scale`… when the path names a subresource.
    pub sub: Option<&'a str>,
    pub query: &'a Params,
    pub content_type: &'a str,
    pub body: &'a [u8],
}

impl Write<'_> {
    /// The namespace in the path, "" for none.
    pub fn namespace(&self) -> &str {
        self.ns.unwrap_or("")
    }
}
