//! The credential store's row decoders and sealed-blob opening (tandem-store's `fuzzing::RowLab`: the same
//! decode + open code `get`, `list_*`, `get_link` and `get_secret` run), fed what a damaged or tampered
//! database file can hold: any SQLite value in any column, text that is not UTF-8, altered sealed blobs.
//!
//! Input: `kind` byte, then per kind (see `tests/interop/fuzz_seeds.py` for the encoder):
//! - 0: a credential made by the real store (`insert`), then tampered with: typed fields, then edits.
//! - 1: a raw credential row (15 columns).
//! - 2: a raw linked-desktop row (4 columns).
//! - 3: a hybrid secret made by the real store (`put_secret`), then looked up / tampered with.
//!
//! Properties: every failure is `StoreError::Corrupt`; store-made rows decode to what was stored (and so
//! do the public reads); a row that decodes writes back to the same columns; a credential or secret whose
//! sealed blob or bound columns were altered never opens.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use tandem_engine::store::{CredentialMeta, CredentialStore, StoreError, StoredCredential};
use tandem_store::fuzzing::{
    CREDENTIAL_BOUND_COLUMNS, CREDENTIAL_COLUMN_COUNT, Column, LINK_COLUMN_COUNT, RowLab,
};
use tandem_store::{DATA_KEY_LEN, HybridStateStore};

const DATA_KEY: [u8; DATA_KEY_LEN] = *b"tandem fuzz stored_row data key!";
/// Index of the sealed secret in a credential row.
const SECRET: usize = CREDENTIAL_COLUMN_COUNT - 1;
/// Edits per input at most (keeps each run short).
const MAX_EDITS: usize = 8;
/// The edit code (after the 15 column replacements) that damages the sealed secret instead.
const SECRET_DAMAGE: usize = CREDENTIAL_COLUMN_COUNT;

fn lab() -> &'static RowLab {
    static LAB: OnceLock<RowLab> = OnceLock::new();
    LAB.get_or_init(|| RowLab::new(&DATA_KEY).expect("in-memory store"))
}

/// Reads the input front to back; past the end every read gives zeros / empty values.
struct Input<'a>(&'a [u8]);

impl<'a> Input<'a> {
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    fn take(&mut self, n: usize) -> &'a [u8] {
        let (head, tail) = self.0.split_at(n.min(self.0.len()));
        self.0 = tail;
        head
    }
    fn array<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        let head = self.take(N);
        out[..head.len()].copy_from_slice(head);
        out
    }
    fn u8(&mut self) -> u8 {
        self.array::<1>()[0]
    }
    fn u16(&mut self) -> u16 {
        u16::from_be_bytes(self.array())
    }
    fn u32(&mut self) -> u32 {
        u32::from_be_bytes(self.array())
    }
    fn i64(&mut self) -> i64 {
        i64::from_be_bytes(self.array())
    }
    /// `u16be length || bytes`.
    fn bytes(&mut self) -> Vec<u8> {
        let n = usize::from(self.u16());
        self.take(n).to_vec()
    }
    fn text(&mut self) -> String {
        String::from_utf8_lossy(&self.bytes()).into_owned()
    }
    /// A flag byte (odd: present), then the value.
    fn opt<T>(&mut self, f: impl FnOnce(&mut Self) -> T) -> Option<T> {
        (self.u8() & 1 == 1).then(|| f(self))
    }
    /// `tag || value`: tag % 5 is NULL, integer (i64be), real (f64be), text or blob (`u16be length || bytes`).
    fn column(&mut self) -> Column {
        match self.u8() % 5 {
            0 => Column::Null,
            1 => Column::Integer(self.i64()),
            // SQLite stores a NaN as NULL; asking for NULL directly keeps the round-trip checks exact.
            2 => match f64::from_be_bytes(self.array()) {
                f if f.is_nan() => Column::Null,
                f => Column::Real(f),
            },
            3 => Column::Text(self.bytes()),
            _ => Column::Blob(self.bytes()),
        }
    }
    fn columns<const N: usize>(&mut self) -> [Column; N] {
        std::array::from_fn(|_| self.column())
    }
}

fn assert_corrupt(e: StoreError) {
    assert!(
        matches!(e, StoreError::Corrupt(_)),
        "a bad row must be Corrupt, got {e:?}"
    );
}

/// Flips one bit of (or truncates) a blob column; other columns are left alone.
fn damage(column: &mut Column, input: &mut Input<'_>) {
    let (how, at, bit) = (input.u8(), usize::from(input.u16()), input.u8() % 8);
    if let Column::Blob(b) = column
        && !b.is_empty()
    {
        let at = at % b.len();
        if how & 1 == 0 {
            b[at] ^= 1 << bit;
        } else {
            b.truncate(at);
        }
    }
}

/// A decoded credential writes back (through `insert`) to the columns it was decoded from.
fn assert_writes_back(credential: &StoredCredential, row: &[Column; CREDENTIAL_COLUMN_COUNT]) {
    let lab = lab();
    lab.clear().expect("clear");
    let again = lab
        .write_credential(credential)
        .expect("a decoded credential can be stored");
    assert_eq!(again[..SECRET], row[..SECRET], "metadata columns must round-trip");
}

fn made_credential(input: &mut Input<'_>) {
    let lab = lab();
    let flags = input.u8();
    let c = StoredCredential {
        meta: CredentialMeta {
            id: input.bytes(),
            rp_id: input.text(),
            rp_name: input.opt(Input::text),
            user_id: input.bytes(),
            user_name: input.opt(Input::text),
            user_display_name: input.opt(Input::text),
            algorithm: input.i64(),
            discoverable: flags & 1 != 0,
            cred_protect: input.u8(),
            backup_eligible: flags & 2 != 0,
            backup_state: flags & 4 != 0,
            sign_count: input.u32(),
            // The store refuses times past i64::MAX (typed error); keep every credential storable.
            created_at: input.i64().unsigned_abs() >> 1,
            cred_blob: input.opt(Input::bytes),
        },
        secret: input.bytes().into(),
    };
    lab.clear().expect("clear");
    let row = lab.write_credential(&c).expect("insert");
    let back = lab
        .decode_credential(&row)
        .expect("a row the store wrote decodes");
    assert_eq!(back.meta, c.meta);
    assert_eq!(back.secret.as_slice(), c.secret.as_slice());
    let got = lab.store().get(&c.meta.id).expect("get").expect("present");
    assert_eq!(got.meta, c.meta);
    assert_eq!(got.secret.as_slice(), c.secret.as_slice());
    assert_eq!(
        lab.store().list_for_rp(&c.meta.rp_id).expect("list"),
        vec![c.meta.clone()]
    );

    // Edits: `index % 16` < 15 replaces that column, 15 damages the sealed secret.
    let mut tampered = row.clone();
    for _ in 0..MAX_EDITS {
        if input.is_empty() {
            break;
        }
        match usize::from(input.u8() % 16) {
            SECRET_DAMAGE => damage(&mut tampered[SECRET], input),
            i => tampered[i] = input.column(),
        }
    }
    if tampered == row {
        return;
    }
    match lab.decode_credential(&tampered) {
        Ok(d) => {
            for i in CREDENTIAL_BOUND_COLUMNS {
                assert_eq!(
                    tampered[i], row[i],
                    "column {i} was altered, yet the secret opened"
                );
            }
            assert_eq!(d.secret.as_slice(), c.secret.as_slice());
            assert_writes_back(&d, &tampered);
        }
        Err(e) => assert_corrupt(e),
    }
}

fn raw_credential(input: &mut Input<'_>) {
    let row = input.columns::<CREDENTIAL_COLUMN_COUNT>();
    match lab().decode_credential(&row) {
        // Only a blob sealed under the data key for exactly these bound columns can get here.
        Ok(d) => assert_writes_back(&d, &row),
        Err(e) => assert_corrupt(e),
    }
}

fn raw_link(input: &mut Input<'_>) {
    let lab = lab();
    let row = input.columns::<LINK_COLUMN_COUNT>();
    match lab.decode_link(&row) {
        Ok(link) => {
            lab.clear().expect("clear");
            assert_eq!(
                lab.write_link(&link).expect("put_link"),
                row,
                "link row must round-trip"
            );
            assert_eq!(
                lab.store().get_link(&link.link_id).expect("get_link"),
                Some(link.clone())
            );
            assert_eq!(lab.store().list_links().expect("list_links"), vec![link]);
        }
        Err(e) => assert_corrupt(e),
    }
}

fn made_secret(input: &mut Input<'_>) {
    let lab = lab();
    let name = input.text();
    let value = input.bytes();
    lab.clear().expect("clear");
    let sealed = lab.write_secret(&name, &value).expect("put_secret");
    assert_eq!(
        lab.open_secret(&name, &sealed)
            .expect("own secret opens")
            .as_slice(),
        &value[..]
    );
    let got = lab
        .store()
        .get_secret(&name)
        .expect("get_secret")
        .expect("present");
    assert_eq!(got.as_slice(), &value[..]);

    // Look it up under another name and/or alter the sealed column.
    let edits = input.u8();
    let lookup = if edits & 1 != 0 {
        input.text()
    } else {
        name.clone()
    };
    let mut column = if edits & 2 != 0 {
        input.column()
    } else {
        sealed.clone()
    };
    for _ in 0..(edits >> 2) % 4 {
        damage(&mut column, input);
    }
    match lab.open_secret(&lookup, &column) {
        Ok(v) => {
            assert_eq!(lookup, name, "a secret opened under another name");
            assert_eq!(column, sealed, "an altered sealed secret opened");
            assert_eq!(v.as_slice(), &value[..]);
        }
        Err(e) => assert_corrupt(e),
    }
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input(data);
    match input.u8() % 4 {
        0 => made_credential(&mut input),
        1 => raw_credential(&mut input),
        2 => raw_link(&mut input),
        _ => made_secret(&mut input),
    }
});
