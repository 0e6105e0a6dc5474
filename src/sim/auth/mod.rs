//! Who is asking, and may they: bearer-token authentication, impersonation (`kubectl --as`)
//! and RBAC authorization, in the apiserver's order and with its answers (401 Unauthorized,
//! 403 Forbidden with the user, verb and resource named).

pub mod rbac;
pub mod review;

use std::collections::HashMap;

use http::HeaderMap;
use serde_json::Value;

pub use rbac::{Attributes, Rbac};

/// A user the built-in cluster knows, with the token that authenticates them.
#[derive(Debug, Clone)]
pub struct SimUser {
    pub name: String,
    pub token: String,
    pub groups: Vec<String>,
}

/// Authentication and RBAC for a simulator.
#[derive(Debug, Clone, Default)]
pub struct AuthOptions {
    /// Users besides the administrator (whose token goes into the written kubeconfig).
    pub users: Vec<SimUser>,
    /// Roles, ClusterRoles and their bindings, in API form.
    pub rbac: Vec<Value>,
}

/// The authenticated user of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserInfo {
    pub name: String,
    pub groups: Vec<String>,
}

/// The administrator every simulator has (kubeadm's `kubernetes-admin`).
pub const ADMIN: &str = "kubernetes-admin";

/// Why a request is refused before it reaches a handler.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// 401: the token is unknown.
    Unauthorized,
    /// 403 with the apiserver's message.
    Forbidden(String),
}

/// The running authenticator and authorizer.
#[derive(Debug)]
pub struct Auth {
    tokens: HashMap<String, UserInfo>,
    rbac: Rbac,
}

impl Auth {
    /// Builds the authenticator for `opts`, with the administrator's `admin_token`.
    pub fn new(admin_token: &str, opts: &AuthOptions) -> Result<Self, rbac::NotRbac> {
        let mut tokens = HashMap::new();
        tokens.insert(
            admin_token.to_string(),
            UserInfo {
                name: ADMIN.into(),
                groups: vec!["system:masters".into(), "system:authenticated".into()],
            },
        );
        for u in &opts.users {
            let mut groups = u.groups.clone();
            groups.push("system:authenticated".into());
            tokens.insert(
                u.token.clone(),
                UserInfo {
                    name: u.name.clone(),
                    groups,
                },
            );
        }
        Ok(Self {
            tokens,
            rbac: Rbac::new(&opts.rbac)?,
        })
    }

    /// The user behind the request's bearer token (anonymous without one), after
    /// impersonation (`Impersonate-User` / `Impersonate-Group`, which need the `impersonate`
    /// verb on users and groups).
    pub fn authenticate(&self, headers: &HeaderMap) -> Result<UserInfo, Refusal> {
        let token = headers
            .get(http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        let user = match token {
            Some(t) => self
                .tokens
                .get(t.trim())
                .cloned()
                .ok_or(Refusal::Unauthorized)?,
            None => UserInfo {
                name: "system:anonymous".into(),
                groups: vec!["system:unauthenticated".into()],
            },
        };
        let Some(as_user) = header_str(headers, "impersonate-user") else {
            return Ok(user);
        };
        let mut groups: Vec<String> = headers
            .get_all("impersonate-group")
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_string))
            .collect();
        let asks = std::iter::once(("users", as_user.to_string()))
            .chain(groups.iter().map(|g| ("groups", g.clone())));
        for (resource, name) in asks {
            let a = Attributes::Resource {
                verb: "impersonate".into(),
                group: String::new(),
                resource: resource.into(),
                subresource: String::new(),
                namespace: String::new(),
                name: name.clone(),
            };
            if self.rbac.allows(&user, &a).is_none() {
                return Err(Refusal::Forbidden(format!(
                    "{resource} {name:?} is forbidden: User {:?} cannot impersonate resource {resource:?} in API group \"\" at the cluster scope",
                    user.name
                )));
            }
        }
        // A known user's own groups come along unless groups were named.
        if groups.is_empty()
            && let Some(known) = self.tokens.values().find(|u| u.name == as_user)
        {
            groups = known.groups.clone();
        }
        if !groups.iter().any(|g| g == "system:authenticated") {
            groups.push("system:authenticated".into());
        }
        Ok(UserInfo {
            name: as_user.to_string(),
            groups,
        })
    }

    /// Whether `user` may do `a`: the reason when allowed, the 403 message when not.
    pub fn authorize(&self, user: &UserInfo, a: &Attributes) -> Result<String, Refusal> {
        self.rbac
            .allows(user, a)
            .ok_or_else(|| Refusal::Forbidden(rbac::forbidden_message(user, a)))
    }
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// A random token, as kubeadm's are (no two simulators share one).
pub fn new_token() -> String {
    use rand::Rng;
    let mut rng = rand::rng();
    (0..32)
        .map(|_| char::from_digit(rng.random_range(0..16), 16).unwrap_or('0'))
        .collect()
}
