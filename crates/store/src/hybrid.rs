//! Hybrid (caBLE v2) linking state the phone keeps: named secrets, sealed like credential secrets, and the
//! list of desktops it is linked with.

use rusqlite::params;
use tandem_engine::store::StoreError;
use zeroize::Zeroizing;

use crate::db_error::db_error;
use crate::row;
use crate::seal::{Purpose, SealKey};
use crate::sqlite::SqliteStore;

/// Length of a link ID in bytes.
pub const LINK_ID_LEN: usize = 8;

/// A desktop this phone is linked with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkedDesktop {
    /// Link ID shared with the desktop.
    pub link_id: [u8; LINK_ID_LEN],
    /// Name the desktop gave itself (shown to the user when managing links).
    pub desktop_name: String,
    /// When the link was made, seconds since the Unix epoch.
    pub created_at: u64,
    /// Tunnel server domain the link uses.
    pub tunnel_domain: String,
}

/// Persistent hybrid linking state. Every method is one transaction.
pub trait HybridStateStore: Send + Sync {
    /// Stores (or replaces) the secret called `name`, encrypted at rest and bound to its name.
    fn put_secret(&self, name: &str, value: &[u8]) -> Result<(), StoreError>;
    /// The secret called `name`, decrypted, or `None` if absent. A tampered or moved value is `Corrupt`.
    fn get_secret(&self, name: &str) -> Result<Option<Zeroizing<Vec<u8>>>, StoreError>;
    /// Deletes the secret called `name`; returns whether it existed.
    fn delete_secret(&self, name: &str) -> Result<bool, StoreError>;
    /// Records a linked desktop, replacing any record with the same link ID.
    fn put_link(&self, link: &LinkedDesktop) -> Result<(), StoreError>;
    /// The linked desktop with `link_id`, or `None`.
    fn get_link(&self, link_id: &[u8; LINK_ID_LEN]) -> Result<Option<LinkedDesktop>, StoreError>;
    /// Every linked desktop, newest first.
    fn list_links(&self) -> Result<Vec<LinkedDesktop>, StoreError>;
    /// Forgets a linked desktop. `NotFound` if there was none with `link_id`.
    fn delete_link(&self, link_id: &[u8; LINK_ID_LEN]) -> Result<(), StoreError>;
}

/// The columns of a linked-desktop row, in the order [`decode_link`] reads them.
pub(crate) const LINK_COLUMNS: &str = "link_id, desktop_name, created_at, tunnel_domain";

/// Decodes a [`LINK_COLUMNS`] row.
pub(crate) fn decode_link(r: &rusqlite::Row<'_>) -> Result<LinkedDesktop, StoreError> {
    let id = row::blob(r, 0, "link_id")?;
    let link_id = <[u8; LINK_ID_LEN]>::try_from(id.as_slice()).map_err(|_| {
        StoreError::Corrupt(format!(
            "column link_id: {} bytes, expected {LINK_ID_LEN}",
            id.len()
        ))
    })?;
    let created_at = row::integer(r, 2, "created_at")?;
    Ok(LinkedDesktop {
        link_id,
        desktop_name: row::text(r, 1, "desktop_name")?,
        created_at: u64::try_from(created_at)
            .map_err(|_| StoreError::Corrupt(format!("column created_at: {created_at} is negative")))?,
        tunnel_domain: row::text(r, 3, "tunnel_domain")?,
    })
}

/// Opens the `sealed` column (index 0) of a secret row that was looked up as `name`: the value authenticates
/// only if it was sealed for that name.
pub(crate) fn open_secret(
    key: &SealKey,
    name: &str,
    r: &rusqlite::Row<'_>,
) -> Result<Zeroizing<Vec<u8>>, StoreError> {
    let sealed = row::blob(r, 0, "sealed")?;
    key.open(Purpose::HybridSecret, &[name.as_bytes()], &sealed)
}

impl HybridStateStore for SqliteStore {
    fn put_secret(&self, name: &str, value: &[u8]) -> Result<(), StoreError> {
        let sealed = self
            .key()
            .seal(Purpose::HybridSecret, &[name.as_bytes()], value)?;
        self.write(|tx| {
            tx.execute(
                "INSERT INTO hybrid_secrets (name, sealed) VALUES (?1, ?2) \
                 ON CONFLICT (name) DO UPDATE SET sealed = excluded.sealed",
                params![name, sealed],
            )
            .map_err(db_error)?;
            Ok(())
        })
    }

    fn get_secret(&self, name: &str) -> Result<Option<Zeroizing<Vec<u8>>>, StoreError> {
        self.read(|tx| {
            let mut stmt = tx
                .prepare("SELECT sealed FROM hybrid_secrets WHERE name = ?1")
                .map_err(db_error)?;
            let mut rows = stmt.query(params![name]).map_err(db_error)?;
            let Some(r) = rows.next().map_err(db_error)? else {
                return Ok(None);
            };
            open_secret(self.key(), name, r).map(Some)
        })
    }

    fn delete_secret(&self, name: &str) -> Result<bool, StoreError> {
        self.write(|tx| {
            let n = tx
                .execute("DELETE FROM hybrid_secrets WHERE name = ?1", params![name])
                .map_err(db_error)?;
            Ok(n > 0)
        })
    }

    fn put_link(&self, link: &LinkedDesktop) -> Result<(), StoreError> {
        let created_at = i64::try_from(link.created_at)
            .map_err(|_| StoreError::Database(format!("created_at {} is out of range", link.created_at)))?;
        self.write(|tx| {
            tx.execute(
                "INSERT INTO linked_desktops (link_id, desktop_name, created_at, tunnel_domain) \
                 VALUES (?1, ?2, ?3, ?4) ON CONFLICT (link_id) DO UPDATE SET \
                 desktop_name = excluded.desktop_name, created_at = excluded.created_at, \
                 tunnel_domain = excluded.tunnel_domain",
                params![
                    link.link_id.as_slice(),
                    link.desktop_name,
                    created_at,
                    link.tunnel_domain
                ],
            )
            .map_err(db_error)?;
            Ok(())
        })
    }

    fn get_link(&self, link_id: &[u8; LINK_ID_LEN]) -> Result<Option<LinkedDesktop>, StoreError> {
        self.read(|tx| {
            let sql = format!("SELECT {LINK_COLUMNS} FROM linked_desktops WHERE link_id = ?1");
            let mut stmt = tx.prepare(&sql).map_err(db_error)?;
            let mut rows = stmt.query(params![link_id.as_slice()]).map_err(db_error)?;
            match rows.next().map_err(db_error)? {
                Some(r) => decode_link(r).map(Some),
                None => Ok(None),
            }
        })
    }

    fn list_links(&self) -> Result<Vec<LinkedDesktop>, StoreError> {
        self.read(|tx| {
            let sql =
                format!("SELECT {LINK_COLUMNS} FROM linked_desktops ORDER BY created_at DESC, rowid DESC");
            let mut stmt = tx.prepare(&sql).map_err(db_error)?;
            let mut rows = stmt.query([]).map_err(db_error)?;
            let mut out = Vec::new();
            while let Some(r) = rows.next().map_err(db_error)? {
                out.push(decode_link(r)?);
            }
            Ok(out)
        })
    }

    fn delete_link(&self, link_id: &[u8; LINK_ID_LEN]) -> Result<(), StoreError> {
        self.write(|tx| {
            let n = tx
                .execute(
                    "DELETE FROM linked_desktops WHERE link_id = ?1",
                    params![link_id.as_slice()],
                )
                .map_err(db_error)?;
            if n == 0 { Err(StoreError::NotFound) } else { Ok(()) }
        })
    }
}
