//! Organisations, their stores and staff, and which shop a channel sells for.

use super::*;

#[async_trait]
pub trait OrgStore: Send + Sync {
    async fn create_org(
        &self,
        name: &str,
        kind: OrgKind,
        owner: AccountId,
        now: UnixMillis,
    ) -> Result<Org>;
    async fn org(&self, id: OrgId) -> Result<Option<Org>>;
    async fn memberships(&self, account: AccountId) -> Result<Vec<Membership>>;
    async fn membership(&self, org: OrgId, account: AccountId) -> Result<Option<Membership>>;
    async fn members(&self, org: OrgId) -> Result<Vec<Membership>>;
    async fn add_member(
        &self,
        org: OrgId,
        account: AccountId,
        role: OrgRole,
        store: Option<StoreId>,
        now: UnixMillis,
    ) -> Result<()>;
    async fn create_store(
        &self,
        org: OrgId,
        name: &str,
        city: &str,
        now: UnixMillis,
    ) -> Result<Store>;
    async fn store(&self, id: StoreId) -> Result<Option<Store>>;
    async fn stores(&self, org: OrgId) -> Result<Vec<Store>>;
    async fn set_channel_shop(&self, channel: ChannelId, org: OrgId, store: StoreId) -> Result<()>;
    async fn channel_shop(&self, channel: ChannelId) -> Result<Option<(OrgId, StoreId)>>;
}

#[async_trait]
impl OrgStore for SqlStore {
    async fn create_org(
        &self,
        name: &str,
        kind: OrgKind,
        owner: AccountId,
        now: UnixMillis,
    ) -> Result<Org> {
        let mut tx = self.write_tx().await?;
        let row = sqlx::query(
            "INSERT INTO organisations (name, kind, created_at) VALUES ($1, $2, $3) RETURNING id",
        )
        .bind(name)
        .bind(kind.as_str())
        .bind(now.0)
        .fetch_one(&mut *tx)
        .await?;
        let id: i64 = row.try_get(0)?;
        sqlx::query("INSERT INTO org_members (org_id, account_id, role, store_id, created_at) VALUES ($1, $2, 'owner', NULL, $3)")
            .bind(id)
            .bind(owner.0)
            .bind(now.0)
            .execute(&mut *tx)
            .await
            .map_err(|e| classify(e, "membership", "account"))?;
        tx.commit().await?;
        Ok(Org {
            id,
            name: name.to_string(),
            kind,
            created_at: now,
        })
    }

    async fn org(&self, id: OrgId) -> Result<Option<Org>> {
        let r = sqlx::query(&format!(
            "SELECT {ORG_COLS} FROM organisations o WHERE o.id = $1"
        ))
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        r.map(|r| org_from(&r, 0)).transpose()
    }

    async fn memberships(&self, account: AccountId) -> Result<Vec<Membership>> {
        let rows = sqlx::query(&format!("SELECT {ORG_COLS}, m.role, m.account_id, m.store_id FROM org_members m JOIN organisations o ON o.id = m.org_id WHERE m.account_id = $1 ORDER BY o.id"))
            .bind(account.0)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(membership_from).collect()
    }

    async fn membership(&self, org: OrgId, account: AccountId) -> Result<Option<Membership>> {
        let r = sqlx::query(&format!("SELECT {ORG_COLS}, m.role, m.account_id, m.store_id FROM org_members m JOIN organisations o ON o.id = m.org_id WHERE m.org_id = $1 AND m.account_id = $2"))
            .bind(org)
            .bind(account.0)
            .fetch_optional(self.pool())
            .await?;
        r.as_ref().map(membership_from).transpose()
    }

    async fn members(&self, org: OrgId) -> Result<Vec<Membership>> {
        let rows = sqlx::query(&format!("SELECT {ORG_COLS}, m.role, m.account_id, m.store_id FROM org_members m JOIN organisations o ON o.id = m.org_id WHERE m.org_id = $1 ORDER BY m.account_id"))
            .bind(org)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(membership_from).collect()
    }

    async fn add_member(
        &self,
        org: OrgId,
        account: AccountId,
        role: OrgRole,
        store: Option<StoreId>,
        now: UnixMillis,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO org_members (org_id, account_id, role, store_id, created_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (org_id, account_id) DO UPDATE SET role = excluded.role, store_id = excluded.store_id",
        )
        .bind(org)
        .bind(account.0)
        .bind(role.as_str())
        .bind(store)
        .bind(now.0)
        .execute(self.pool())
        .await
        .map_err(|e| classify(e, "membership", "account, organisation or store"))?;
        Ok(())
    }

    async fn create_store(
        &self,
        org: OrgId,
        name: &str,
        city: &str,
        now: UnixMillis,
    ) -> Result<Store> {
        let r = sqlx::query("INSERT INTO stores (org_id, name, city, created_at) VALUES ($1, $2, $3, $4) RETURNING id")
            .bind(org)
            .bind(name)
            .bind(city)
            .bind(now.0)
            .fetch_one(self.pool())
            .await
            .map_err(|e| classify(e, "store", "organisation"))?;
        Ok(Store {
            id: r.try_get(0)?,
            org,
            name: name.into(),
            city: city.into(),
        })
    }

    async fn store(&self, id: StoreId) -> Result<Option<Store>> {
        let r = sqlx::query("SELECT id, org_id, name, city FROM stores WHERE id = $1")
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        r.map(|r| {
            Ok(Store {
                id: r.try_get(0)?,
                org: r.try_get(1)?,
                name: r.try_get(2)?,
                city: r.try_get(3)?,
            })
        })
        .transpose()
    }

    async fn stores(&self, org: OrgId) -> Result<Vec<Store>> {
        let rows =
            sqlx::query("SELECT id, org_id, name, city FROM stores WHERE org_id = $1 ORDER BY id")
                .bind(org)
                .fetch_all(self.pool())
                .await?;
        rows.iter()
            .map(|r| {
                Ok(Store {
                    id: r.try_get(0)?,
                    org: r.try_get(1)?,
                    name: r.try_get(2)?,
                    city: r.try_get(3)?,
                })
            })
            .collect()
    }

    async fn set_channel_shop(&self, channel: ChannelId, org: OrgId, store: StoreId) -> Result<()> {
        sqlx::query("INSERT INTO channel_shops (channel_id, org_id, store_id) VALUES ($1, $2, $3) ON CONFLICT (channel_id) DO UPDATE SET org_id = excluded.org_id, store_id = excluded.store_id")
            .bind(channel.0)
            .bind(org)
            .bind(store)
            .execute(self.pool())
            .await
            .map_err(|e| classify(e, "channel shop", "channel, organisation or store"))?;
        Ok(())
    }

    async fn channel_shop(&self, channel: ChannelId) -> Result<Option<(OrgId, StoreId)>> {
        let r = sqlx::query("SELECT org_id, store_id FROM channel_shops WHERE channel_id = $1")
            .bind(channel.0)
            .fetch_optional(self.pool())
            .await?;
        r.map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).transpose()
    }
}
