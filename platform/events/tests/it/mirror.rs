//! The mirror mechanism on every database: newest wins, redeliveries and older events change
//! nothing, a burst keeps each key's latest, groups retire what an event leaves out, the
//! consumer's own columns survive, and another shop's rows are never touched.

use crate::support::{Tables as _, TestDb, on_every_database};
use async_trait::async_trait;
use chrono::{DateTime, TimeZone, Utc};
use mercato_db::TenantTx;
use mercato_events::{
    Envelope, Handler, HandlerError, Mirror, MirrorChange, MirrorRow, MirrorTable, Mirrored, Retire,
};
use mercato_tenant_context::TenantId;
use sea_orm::{ConnectionTrait, DbErr, Statement, Value};
use serde::{Deserialize, Serialize};
use std::sync::{Arc, Mutex};
use uuid::Uuid;

on_every_database!(
    the_newest_event_wins_whatever_the_delivery_order,
    a_burst_keeps_each_keys_latest_and_tells_the_hook_what_was_written,
    a_group_retires_what_its_latest_event_leaves_out,
    the_consumers_own_columns_survive_updates,
    unwanted_and_invalid_events_change_nothing,
    another_shops_rows_are_never_touched,
);

/// The owner's contract payload: a group of named things, or a deleted group.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Group {
    group: Uuid,
    things: Vec<(Uuid, String)>,
    #[serde(default)]
    deleted: bool,
}

struct Thing {
    id: Uuid,
    group: Uuid,
    name: String,
    gone: bool,
}

impl MirrorRow for Thing {
    fn key(&self) -> Uuid {
        self.id
    }

    fn values(&self) -> Vec<Value> {
        vec![
            self.group.into(),
            self.name.clone().into(),
            self.gone.into(),
        ]
    }
}

/// What the test's consumer's hooks saw.
#[derive(Default)]
struct Things {
    before: Mutex<Vec<usize>>,
    written: Mutex<Vec<Vec<String>>>,
}

/// The test's consumer. It records what its hooks saw and refuses a thing named "".
struct Consumer(Arc<Things>);

#[async_trait]
impl Mirror for Consumer {
    type Event = Group;
    type Row = Thing;
    type Before = usize;

    const TABLE: MirrorTable = MirrorTable {
        name: "mirrored",
        key: "id",
        version: "synced_at",
        columns: &["grp", "name", "gone"],
        on_insert: &[("local_note", "'new'")],
    };

    fn wants(&self, event: &Envelope) -> bool {
        event.name != "group.noted"
    }

    fn change(&self, _: &Envelope, g: Group) -> Result<MirrorChange<Thing>, HandlerError> {
        if g.things.iter().any(|(_, name)| name.is_empty()) {
            return Err(HandlerError::Payload(serde::de::Error::custom(
                "a thing without a name",
            )));
        }
        let rows = g
            .things
            .into_iter()
            .map(|(id, name)| Thing {
                id,
                group: g.group,
                name,
                gone: g.deleted,
            })
            .collect();
        Ok(MirrorChange {
            rows,
            retire: Some(Retire {
                column: "grp",
                group: g.group,
                set: "gone = TRUE",
            }),
        })
    }

    async fn before(&self, _: &TenantTx, rows: &[&Thing], _: &[Retire]) -> Result<usize, DbErr> {
        self.0.before.lock().unwrap().push(rows.len());
        Ok(rows.len())
    }

    async fn after(&self, _: &TenantTx, before: usize, written: &[&Thing]) -> Result<bool, DbErr> {
        assert!(written.len() <= before);
        let mut names: Vec<String> = written.iter().map(|t| t.name.clone()).collect();
        names.sort();
        self.0.written.lock().unwrap().push(names);
        Ok(false)
    }
}

fn at(second: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 12, 0, second).unwrap()
}

fn group_event(tenant: TenantId, g: &Group, second: u32) -> Envelope {
    let mut event = Envelope::new("group.changed", 1, tenant, g).unwrap();
    event.occurred_at = at(second);
    event
}

fn group(things: &[(Uuid, &str)]) -> Group {
    Group {
        group: Uuid::now_v7(),
        things: things
            .iter()
            .map(|(id, n)| (*id, (*n).to_owned()))
            .collect(),
        deleted: false,
    }
}

fn with(g: &Group, things: &[(Uuid, &str)]) -> Group {
    Group {
        group: g.group,
        things: things
            .iter()
            .map(|(id, n)| (*id, (*n).to_owned()))
            .collect(),
        deleted: false,
    }
}

fn mirror(t: &TestDb) -> (Arc<Things>, Mirrored<Consumer>) {
    let things = Arc::new(Things::default());
    let mirror = Mirrored::new("test-things", t.db.clone(), Consumer(things.clone()));
    (things, mirror)
}

/// The shop's rows: (id, name, gone, local_note, synced_at second), by id.
async fn rows(t: &TestDb, tenant: TenantId) -> Vec<(Uuid, String, bool, String)> {
    let tx = t.db.tenant_tx(tenant).await.unwrap();
    let rows = tx
        .query_all_raw(Statement::from_sql_and_values(
            tx.get_database_backend(),
            "SELECT id, name, gone, local_note FROM mirrored WHERE tenant_id = $1 ORDER BY id",
            [tenant.as_uuid().into()],
        ))
        .await
        .unwrap();
    rows.iter()
        .map(|r| {
            (
                r.try_get_by_index(0).unwrap(),
                r.try_get_by_index(1).unwrap(),
                r.try_get_by_index(2).unwrap(),
                r.try_get_by_index(3).unwrap(),
            )
        })
        .collect()
}

fn sorted(mut v: Vec<(Uuid, String, bool, String)>) -> Vec<(Uuid, String, bool, String)> {
    v.sort_by_key(|r| r.0);
    v
}

fn row(id: Uuid, name: &str, gone: bool) -> (Uuid, String, bool, String) {
    (id, name.to_owned(), gone, "new".to_owned())
}

async fn inbox(t: &TestDb) -> i64 {
    t.count("SELECT COUNT(*) FROM processed_events WHERE consumer = 'test-things'")
        .await
}

async fn the_newest_event_wins_whatever_the_delivery_order(t: TestDb) {
    let tenant = TenantId::new();
    let (_, mirror) = mirror(&t);
    let id = Uuid::now_v7();
    let first = group(&[(id, "first")]);
    let later = group_event(tenant, &with(&first, &[(id, "later")]), 2);
    let earlier = group_event(tenant, &first, 1);

    mirror.handle(&later).await.unwrap();
    mirror.handle(&earlier).await.unwrap();
    assert_eq!(rows(&t, tenant).await, [row(id, "later", false)]);
    // Redelivered: recorded once, changes nothing.
    mirror.handle(&later).await.unwrap();
    mirror.handle_batch(&[earlier, later]).await.unwrap();
    assert_eq!(rows(&t, tenant).await, [row(id, "later", false)]);
    assert_eq!(inbox(&t).await, 2);

    // As new as the row: the later delivered wins, as the rule is "not older".
    let tie = group_event(tenant, &with(&first, &[(id, "tie")]), 2);
    mirror.handle(&tie).await.unwrap();
    assert_eq!(rows(&t, tenant).await, [row(id, "tie", false)]);
    t.finish().await;
}

async fn a_burst_keeps_each_keys_latest_and_tells_the_hook_what_was_written(t: TestDb) {
    let tenant = TenantId::new();
    let (things, mirror) = mirror(&t);
    let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
    let g = group(&[(a, "a1"), (b, "b1")]);
    let burst = [
        group_event(tenant, &g, 1),
        group_event(tenant, &with(&g, &[(a, "a3"), (b, "b3")]), 3),
        group_event(tenant, &with(&g, &[(a, "a2"), (b, "b2")]), 2),
    ];
    mirror.handle_batch(&burst).await.unwrap();
    assert_eq!(
        rows(&t, tenant).await,
        sorted(vec![row(a, "a3", false), row(b, "b3", false)])
    );
    // One write of each key's latest.
    assert_eq!(*things.before.lock().unwrap(), [2]);
    assert_eq!(*things.written.lock().unwrap(), [vec!["a3", "b3"]]);

    // Older than the stored rows: offered to the write, not written, not told as written.
    let stale = group_event(tenant, &with(&g, &[(a, "a0"), (b, "b0")]), 0);
    mirror.handle(&stale).await.unwrap();
    assert_eq!(things.written.lock().unwrap()[1], Vec::<String>::new());
    assert_eq!(
        rows(&t, tenant).await,
        sorted(vec![row(a, "a3", false), row(b, "b3", false)])
    );

    // More rows than one statement takes (500): all written.
    let many: Vec<(Uuid, String)> = (0..1_203)
        .map(|i| (Uuid::now_v7(), format!("m{i}")))
        .collect();
    let big = Group {
        group: Uuid::now_v7(),
        things: many.clone(),
        deleted: false,
    };
    mirror.handle(&group_event(tenant, &big, 5)).await.unwrap();
    assert_eq!(rows(&t, tenant).await.len(), 2 + many.len());
    assert_eq!(things.written.lock().unwrap()[2].len(), many.len());
    t.finish().await;
}

async fn a_group_retires_what_its_latest_event_leaves_out(t: TestDb) {
    let tenant = TenantId::new();
    let (_, mirror) = mirror(&t);
    let (a, b, c) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    let g = group(&[(a, "a"), (b, "b")]);
    let other = group(&[(c, "c")]);
    mirror
        .handle_batch(&[group_event(tenant, &g, 1), group_event(tenant, &other, 1)])
        .await
        .unwrap();

    // b left the group at 2: retired; the other group is not touched.
    mirror
        .handle(&group_event(tenant, &with(&g, &[(a, "a")]), 2))
        .await
        .unwrap();
    assert_eq!(
        rows(&t, tenant).await,
        sorted(vec![
            row(a, "a", false),
            row(b, "b", true),
            row(c, "c", false)
        ])
    );
    // The event of 1 again, under another id (a replay of an older state): b stays retired.
    let old = group_event(tenant, &g, 1);
    mirror.handle(&old).await.unwrap();
    assert_eq!(
        rows(&t, tenant).await,
        sorted(vec![
            row(a, "a", false),
            row(b, "b", true),
            row(c, "c", false)
        ])
    );

    // The group deleted: every row a tombstone, none removed, and a late event of before
    // the deletion brings none back.
    let mut deleted = with(&g, &[(a, "a")]);
    deleted.deleted = true;
    mirror
        .handle(&group_event(tenant, &deleted, 3))
        .await
        .unwrap();
    mirror
        .handle(&group_event(tenant, &with(&g, &[(a, "a"), (b, "b")]), 2))
        .await
        .unwrap();
    assert_eq!(
        rows(&t, tenant).await,
        sorted(vec![
            row(a, "a", true),
            row(b, "b", true),
            row(c, "c", false)
        ])
    );
    t.finish().await;
}

async fn the_consumers_own_columns_survive_updates(t: TestDb) {
    let tenant = TenantId::new();
    let (_, mirror) = mirror(&t);
    let id = Uuid::now_v7();
    let g = group(&[(id, "one")]);
    mirror.handle(&group_event(tenant, &g, 1)).await.unwrap();
    let tx = t.db.tenant_tx(tenant).await.unwrap();
    tx.execute_raw(Statement::from_sql_and_values(
        tx.get_database_backend(),
        "UPDATE mirrored SET local_note = 'mine' WHERE tenant_id = $1",
        [tenant.as_uuid().into()],
    ))
    .await
    .unwrap();
    tx.commit().await.unwrap();

    mirror
        .handle(&group_event(tenant, &with(&g, &[(id, "two")]), 2))
        .await
        .unwrap();
    assert_eq!(
        rows(&t, tenant).await,
        [(id, "two".to_owned(), false, "mine".to_owned())]
    );
    t.finish().await;
}

async fn unwanted_and_invalid_events_change_nothing(t: TestDb) {
    let tenant = TenantId::new();
    let (_, mirror) = mirror(&t);
    let id = Uuid::now_v7();
    let g = group(&[(id, "one")]);
    let mut noted = group_event(tenant, &g, 1);
    noted.name = "group.noted".into();
    mirror.handle(&noted).await.unwrap();
    assert!(rows(&t, tenant).await.is_empty());
    assert_eq!(inbox(&t).await, 0);

    // A payload of the wrong shape, or one the consumer refuses: an error for the bus to
    // dead-letter, and nothing written, the inbox included, even for the good ones beside.
    let mut wrong = group_event(tenant, &g, 1);
    wrong.payload = serde_json::json!({ "group": "not a uuid" });
    let refused = group_event(tenant, &with(&g, &[(id, "")]), 2);
    for bad in [wrong, refused] {
        let good = group_event(tenant, &g, 1);
        let error = mirror.handle_batch(&[good, bad]).await.unwrap_err();
        assert!(matches!(error, HandlerError::Payload(_)), "{error}");
    }
    assert!(rows(&t, tenant).await.is_empty());
    assert_eq!(inbox(&t).await, 0);
    t.finish().await;
}

async fn another_shops_rows_are_never_touched(t: TestDb) {
    let (mine, theirs) = (TenantId::new(), TenantId::new());
    let (_, mirror) = mirror(&t);
    let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
    // The same ids in both shops, as an owner's ids never are but a forger's could be.
    let g = group(&[(a, "a"), (b, "b")]);
    mirror
        .handle_batch(&[group_event(theirs, &g, 1), group_event(mine, &g, 1)])
        .await
        .unwrap();
    // My shop's newer event, retiring b and renaming a, and my shop's deletion.
    mirror
        .handle(&group_event(mine, &with(&g, &[(a, "mine")]), 2))
        .await
        .unwrap();
    assert_eq!(
        rows(&t, mine).await,
        sorted(vec![row(a, "mine", false), row(b, "b", true)])
    );
    assert_eq!(
        rows(&t, theirs).await,
        sorted(vec![row(a, "a", false), row(b, "b", false)])
    );
    t.finish().await;
}
