//! Node settings: a small key-value table (`node_settings`).

use super::{Columns, Record, Tx};
use crate::StoreError;

/// The value of one setting.
struct SettingValue(String);

impl Record for SettingValue {
    const TABLE: &'static str = "node_settings";
    const COLUMNS: &'static str = "value";

    fn read(row: &Columns<'_>) -> Result<Self, StoreError> {
        row.text("value").map(SettingValue)
    }
}

impl Tx {
    /// A node setting.
    pub async fn setting(&mut self, key: &str) -> Result<Option<String>, StoreError> {
        let sql = super::select::<SettingValue>("WHERE key = $1");
        let value: Option<SettingValue> = self.one(sqlx::query(&sql).bind(key)).await?;
        Ok(value.map(|SettingValue(value)| value))
    }

    /// Sets a node setting.
    pub async fn set_setting(&mut self, key: &str, value: &str) -> Result<(), StoreError> {
        self.run(
            sqlx::query(
                "INSERT INTO node_settings (key, value) VALUES ($1, $2) \
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            )
            .bind(key)
            .bind(value),
        )
        .await?;
        Ok(())
    }
}
