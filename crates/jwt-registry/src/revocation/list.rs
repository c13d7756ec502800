//! The list itself: force-expired tokens until verification would refuse
//! them anyway, and users' cut-offs.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

use diesel::sql_types::{BigInt, Nullable};
use diesel::{Connection as _, RunQueryDsl};

use crate::db::{DbConnection, DbError};
use crate::expiry::{Change, CutOff, Revoked, Rules};
use crate::token_manager;
use crate::types::Moment;

/// What a token's check against the list found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Listed {
    Fine,
    Revoked,
    CutOff,
}

/// What the list alone tells of a token: nothing listed counts as
/// registered (the list answers `Need::Refusal` only).
impl From<Listed> for crate::token_manager::Verdict {
    fn from(listed: Listed) -> Self {
        match listed {
            Listed::Revoked => crate::token_manager::Verdict::ForceExpired,
            Listed::CutOff => crate::token_manager::Verdict::CutOff,
            Listed::Fine => crate::token_manager::Verdict::Registered,
        }
    }
}

/// The list itself.
#[derive(Default)]
pub(super) struct List {
    /// Force-expired tokens, until when verification would accept them.
    pub(super) tokens: HashMap<String, Moment>,
    /// The same, soonest first, to forget them in order.
    pub(super) lapsing: BinaryHeap<Reverse<(Moment, String)>>,
    /// Users' cut-offs: tokens issued at or before are refused.
    pub(super) users: HashMap<String, i64>,
}

impl List {
    pub(super) fn apply(&mut self, change: Change) {
        match change {
            // Once per token (this process's own expiries come back through
            // the SQLite log as well), again only if it lapses later.
            Change::Token(Revoked { jti, until }) => match self.tokens.get_mut(&jti) {
                Some(kept) if *kept >= until => {}
                Some(kept) => {
                    *kept = until;
                    self.lapsing.push(Reverse((until, jti)));
                }
                None => {
                    self.tokens.insert(jti.clone(), until);
                    self.lapsing.push(Reverse((until, jti)));
                }
            },
            Change::User(CutOff {
                user_id,
                issued_until,
            }) => {
                let entry = self.users.entry(user_id).or_insert(issued_until);
                *entry = (*entry).max(issued_until);
            }
            Change::UserChanged(_) | Change::Reload => {}
        }
    }

    /// Forgets the tokens verification refuses by now anyway.
    pub(super) fn forget_lapsed(&mut self, now: Moment) {
        while let Some(Reverse((until, _))) = self.lapsing.peek() {
            if *until > now {
                break;
            }
            if let Some(Reverse((until, jti))) = self.lapsing.pop()
                && self.tokens.get(&jti).is_some_and(|kept| *kept <= until)
            {
                self.tokens.remove(&jti);
            }
        }
    }

    pub(super) fn verdict(
        &self,
        jti: &str,
        user_id: Option<&str>,
        issued_at: Option<i64>,
    ) -> Listed {
        if self.tokens.contains_key(jti) {
            return Listed::Revoked;
        }
        let cut = user_id.and_then(|user| self.users.get(user));
        if cut.is_some_and(|cut| issued_at.is_none_or(|iat| iat <= *cut)) {
            return Listed::CutOff;
        }
        Listed::Fine
    }
}

#[derive(diesel::QueryableByName)]
struct LastSeq {
    #[diesel(sql_type = Nullable<BigInt>)]
    seq: Option<i64>,
}

/// Loads the whole list from `conn` (one read transaction: on SQLite with
/// the last log row, so that what follows it is read next).
pub(super) fn load(
    conn: &mut DbConnection,
    rules: &Rules,
    now: Moment,
) -> Result<(List, Option<i64>), DbError> {
    let horizon = rules.horizon(now);
    let sqlite = conn.is_sqlite();
    let (tokens, users, seq) = conn.transaction(|conn| {
        let tokens = token_manager::revoked(conn, horizon)?;
        let users = token_manager::cutoffs(conn)?;
        let seq = if sqlite {
            diesel::sql_query("SELECT MAX(seq) AS seq FROM jwt_revocation_log")
                .get_result::<LastSeq>(conn)?
                .seq
        } else {
            None
        };
        Ok::<_, DbError>((tokens, users, seq))
    })?;
    let mut list = List::default();
    for (jti, exp) in tokens {
        list.apply(Change::Token(Revoked {
            jti,
            until: exp.plus(rules.leeway),
        }));
    }
    for (user_id, issued_until) in users {
        list.apply(Change::User(CutOff {
            user_id,
            issued_until,
        }));
    }
    tracing::debug!(
        tokens = list.tokens.len(),
        users = list.users.len(),
        "revocation list loaded whole"
    );
    Ok((list, seq))
}
