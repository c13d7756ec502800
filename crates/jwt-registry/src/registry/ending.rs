//! Ending sessions: one, the others, the current one, all of a user's (a
//! cut-off first), and `logout/`'s tokens.

use std::time::Duration;

use super::Registry;
use crate::db::DbError;
use crate::expiry::{self, CutOff, Scope, Spare};
use crate::record::TokenRecord;
use crate::sessions;
use crate::token_manager::{self, Reach};
use crate::types::{Moment, RowId};

/// What ending sessions or a user's tokens did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ended {
    /// Sessions (logins with a live refresh token) ended.
    pub sessions: usize,
    /// How many tokens were force-expired now.
    pub expired: usize,
    /// After a cut-off ("log out everywhere"): how long until the second
    /// it fell in is over. `iat` counts whole seconds, so a token issued
    /// later in that second is refused too; answer after this wait and a
    /// login that follows the answer works. Zero otherwise.
    pub settles_in: Duration,
}

/// Which sessions [`Registry::end_sessions`] ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EndSessions<'a> {
    /// The session with this id (`DELETE sessions/{id}/`).
    One(RowId),
    /// The one holding this token (`logout/`).
    Current {
        /// The caller's token.
        current_jti: &'a str,
    },
    /// All but the one holding this token (`sessions/revoke-others/`).
    Others {
        /// The caller's token.
        current_jti: &'a str,
    },
    /// All of them (`logout-all/`).
    All,
}

impl Registry {
    /// Every token of a user, registered or not, issued until now is
    /// refused from now on (a cut-off, one short transaction), and the
    /// registered ones are force-expired (in short transactions).
    pub fn expire_user(&self, user_id: &str) -> Result<Ended, DbError> {
        self.end_sessions(user_id, EndSessions::All)
    }

    /// Force-expires sessions of a user. A session that is not the user's,
    /// or not alive, counts as none. Large logins are expired in short
    /// transactions, so that other writers never wait long.
    pub fn end_sessions(&self, user_id: &str, which: EndSessions<'_>) -> Result<Ended, DbError> {
        let mut conn = self.inner.db.get()?;
        let alive = sessions::alive_roots(&mut conn, user_id, self.horizon())?;
        let mut ended = Ended::default();
        let expired = match which {
            EndSessions::One(id) => {
                drop(conn);
                if !alive.contains(&id) {
                    return Ok(ended);
                }
                ended.sessions = 1;
                self.mark_cut(&[id])?;
                self.expire_in_batches(Scope::Families(&[id]), Reach::Tree)?
            }
            EndSessions::Others { current_jti } => {
                let current = token_manager::root_of_jti(&mut conn, current_jti)?;
                drop(conn);
                let others: Vec<RowId> = alive
                    .iter()
                    .copied()
                    .filter(|root| Some(*root) != current)
                    .collect();
                ended.sessions = others.len();
                self.mark_cut(&others)?;
                self.expire_in_batches(
                    Scope::User {
                        user_id,
                        except: current,
                    },
                    Reach::Tree,
                )?
            }
            // The caller's own login, alive or not: its access token may
            // outlive its refresh tokens.
            EndSessions::Current { current_jti } => {
                let current = token_manager::root_of_jti(&mut conn, current_jti)?;
                drop(conn);
                let Some(root) = current else {
                    return Ok(ended);
                };
                ended.sessions = usize::from(alive.contains(&root));
                self.mark_cut(&[root])?;
                self.expire_in_batches(Scope::Families(&[root]), Reach::Tree)?
            }
            EndSessions::All => {
                drop(conn);
                ended.sessions = alive.len();
                ended.settles_in = self.cut_off(user_id)?;
                self.expire_in_batches(
                    Scope::User {
                        user_id,
                        except: None,
                    },
                    Reach::Tree,
                )?
            }
        };
        ended.expired = expired;
        Ok(ended)
    }

    /// `logout/`: each of `tokens` (the caller's access token, and the
    /// refresh token they named) is force-expired — recorded so if the
    /// registry never saw it — and so is its whole login.
    pub fn logout(&self, user_id: &str, tokens: &[TokenRecord]) -> Result<Ended, DbError> {
        let now = self.now();
        let rules = self.inner.rules;
        let (expired, roots) = self.inner.db.write(|conn| {
            let expired = token_manager::expire_records(
                conn,
                tokens,
                Reach::Token,
                Spare::default(),
                &rules,
                now,
            )?;
            let mut roots = Vec::new();
            for token in tokens {
                roots.extend(token_manager::root_of_jti(conn, &token.jti)?);
            }
            expiry::mark_cut(conn, &roots, now)?;
            Ok::<_, DbError>((expired, roots))
        })?;
        self.after_expiry(&expired, &[], Reach::Token);
        let mut conn = self.inner.db.get()?;
        let alive = sessions::alive_roots(&mut conn, user_id, self.horizon())?;
        drop(conn);
        let mut ended = Ended {
            sessions: alive.iter().filter(|root| roots.contains(root)).count(),
            ..Ended::default()
        };
        ended.expired =
            expired.len() + self.expire_in_batches(Scope::Families(&roots), Reach::Tree)?;
        Ok(ended)
    }

    /// Marks logins as cut off whole (see [`expiry::mark_cut`]).
    pub(super) fn mark_cut(&self, roots: &[RowId]) -> Result<(), DbError> {
        if roots.is_empty() {
            return Ok(());
        }
        let now = self.now();
        self.inner
            .db
            .write(|conn| expiry::mark_cut(conn, roots, now))
    }

    /// Sets the user's cut-off to the current second; returns how long
    /// until that second is over.
    fn cut_off(&self, user_id: &str) -> Result<Duration, DbError> {
        let now = self.now();
        let until = now.unix_seconds();
        let issued_until = self
            .inner
            .db
            .write(|conn| expiry::cut_off(conn, user_id, until, now))?;
        let cut = CutOff {
            user_id: user_id.to_owned(),
            issued_until,
        };
        if let Some(revocations) = &self.inner.revocations {
            revocations.add(&[], std::slice::from_ref(&cut));
        }
        for listener in &self.inner.listeners {
            listener.user_cut_off(user_id, issued_until);
        }
        let next_second = Moment::from_unix_seconds(issued_until.saturating_add(1));
        Ok((next_second.0 - self.now().0).to_std().unwrap_or_default())
    }
}
