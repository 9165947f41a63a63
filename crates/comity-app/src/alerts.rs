//! Operator alerts and the operators' views of the federation: what was refused, what
//! is out of step, and the inbox and outbox page by page (node operators only).

use comity_domain::Role;
use comity_store::{
    AlertRecord, InboxMessage, InboxStatus, OutOfStep, OutboxEntry, OutboxStatus, Tx,
};

use crate::{App, AppError, Principal};

/// The largest page an operator view returns.
pub const MAX_PER_PAGE: u32 = 200;
/// The highest page number asked for (a list longer than this is read with a filter).
pub const MAX_PAGE: u32 = 1_000_000;

/// One page of a list: `page` from 1, `per_page` from 1 to [`MAX_PER_PAGE`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// Which page, from 1.
    pub page: u32,
    /// How many rows a page holds.
    pub per_page: u32,
}

impl Default for Page {
    fn default() -> Self {
        Page {
            page: 1,
            per_page: 50,
        }
    }
}

impl Page {
    /// A page, refusing numbers out of range (naming the field).
    pub fn new(page: Option<u32>, per_page: Option<u32>) -> Result<Page, AppError> {
        let page = page.unwrap_or(1);
        let per_page = per_page.unwrap_or(Page::default().per_page);
        if page == 0 || page > MAX_PAGE {
            return Err(AppError::invalid(
                "page",
                format!("pages are numbered from 1 to {MAX_PAGE}"),
            ));
        }
        if per_page == 0 || per_page > MAX_PER_PAGE {
            return Err(AppError::invalid(
                "per_page",
                format!("must be between 1 and {MAX_PER_PAGE}"),
            ));
        }
        Ok(Page { page, per_page })
    }

    fn limit(self) -> i64 {
        i64::from(self.per_page)
    }

    fn offset(self) -> i64 {
        i64::from(self.page.saturating_sub(1)) * i64::from(self.per_page)
    }
}

/// Kinds of alert.
pub mod kinds {
    /// A peer's signed receipt refused one of this node's messages.
    pub const MESSAGE_REJECTED: &str = "message_rejected";
    /// Both nodes hold different messages at the same place of a conversation.
    pub const RESYNC_CONFLICT: &str = "resync_conflict";
    /// A resynchronisation replayed messages to bring a conversation back in step.
    pub const RESYNC_REPLAYED: &str = "resync_replayed";
    /// A resynchronisation with a peer could not run.
    pub const RESYNC_FAILED: &str = "resync_failed";
    /// A peer announced a new key (kept for confirmation, applied, or refused).
    pub const KEY_ANNOUNCEMENT: &str = "key_announcement";
}

impl App {
    /// Raises an operator alert in its own transaction, and logs it.
    pub async fn raise_alert(
        &self,
        kind: &str,
        peer_node: Option<&str>,
        conversation_id: Option<&str>,
        message: &str,
    ) -> Result<AlertRecord, AppError> {
        let mut tx = self.store().begin().await?;
        let alert = self
            .raise_alert_in(&mut tx, kind, peer_node, conversation_id, message)
            .await?;
        tx.commit().await?;
        Ok(alert)
    }

    /// Raises an operator alert within `tx` (it exists once `tx` commits), and logs it.
    pub(crate) async fn raise_alert_in(
        &self,
        tx: &mut Tx,
        kind: &str,
        peer_node: Option<&str>,
        conversation_id: Option<&str>,
        message: &str,
    ) -> Result<AlertRecord, AppError> {
        let alert = AlertRecord {
            id: self.new_id(),
            kind: kind.to_string(),
            peer_node: peer_node.map(str::to_string),
            conversation_id: conversation_id.map(str::to_string),
            message: message.to_string(),
            raised_at: self.now(),
            acknowledged_at: None,
            acknowledged_by: None,
        };
        tx.insert_alert(&alert).await?;
        if kind == kinds::RESYNC_REPLAYED {
            // A report of what a resynchronisation mended, not a fault.
            tracing::info!(alert = kind, peer = ?peer_node, conversation = ?conversation_id, ?message, "operator notice");
        } else {
            tracing::error!(
                alert = kind,
                peer = ?peer_node,
                conversation = ?conversation_id,
                ?message,
                "OPERATOR ALERT"
            );
        }
        Ok(alert)
    }

    /// Alerts, newest first: the open ones, or all (node operators).
    pub async fn alerts(
        &self,
        principal: &Principal,
        include_acknowledged: bool,
        page: Page,
    ) -> Result<Vec<AlertRecord>, AppError> {
        principal.require_any(&[Role::NodeOperator], "read operator alerts")?;
        let mut tx = self.store().begin().await?;
        Ok(tx
            .alerts(include_acknowledged, page.limit(), page.offset())
            .await?)
    }

    /// Marks an alert seen (node operators).
    pub async fn acknowledge_alert(
        &self,
        principal: &Principal,
        alert_id: &str,
    ) -> Result<(), AppError> {
        principal.require_any(&[Role::NodeOperator], "acknowledge operator alerts")?;
        let mut tx = self.store().begin().await?;
        if !tx
            .acknowledge_alert(alert_id, principal.user_id(), self.now())
            .await?
        {
            return Err(AppError::NotFound(format!("open alert {alert_id}")));
        }
        tx.commit().await?;
        Ok(())
    }

    /// Outgoing messages with their receipts' outcomes, newest first (node operators).
    pub async fn outbox_view(
        &self,
        principal: &Principal,
        status: Option<OutboxStatus>,
        page: Page,
    ) -> Result<Vec<OutboxEntry>, AppError> {
        principal.require_any(&[Role::NodeOperator], "inspect the outbox")?;
        let mut tx = self.store().begin().await?;
        Ok(tx.outbox_page(status, page.limit(), page.offset()).await?)
    }

    /// Received messages (waiting, applied, rejected with the reason), newest first
    /// (node operators).
    pub async fn inbox_view(
        &self,
        principal: &Principal,
        status: Option<InboxStatus>,
        page: Page,
    ) -> Result<Vec<InboxMessage>, AppError> {
        principal.require_any(&[Role::NodeOperator], "inspect the inbox")?;
        let mut tx = self.store().begin().await?;
        Ok(tx.inbox_page(status, page.limit(), page.offset()).await?)
    }

    /// Every conversation out of step with a peer (node operators).
    pub async fn conversations_out_of_step(
        &self,
        principal: &Principal,
    ) -> Result<Vec<OutOfStep>, AppError> {
        principal.require_any(&[Role::NodeOperator], "inspect the federation")?;
        let mut tx = self.store().begin().await?;
        Ok(tx.all_out_of_step().await?)
    }

    /// Why a request is out of step with the other side, if it is. The caller has
    /// already been allowed to read the request.
    pub(crate) async fn out_of_step_note(
        &self,
        tx: &mut Tx,
        request_id: &str,
    ) -> Result<Option<String>, AppError> {
        // Conversations are keyed `request:<uuid>`; a bare id is read as the same one.
        let conversation = comity_wire::federation::ConversationId::parse(request_id)
            .map(|conversation| conversation.to_string())
            .unwrap_or_else(|_| request_id.to_string());
        let notes: Vec<String> = tx
            .out_of_step(&conversation)
            .await?
            .into_iter()
            .map(|row| {
                format!(
                    "out of step with the other side ({}): {}",
                    row.peer_node, row.reason
                )
            })
            .collect();
        Ok(if notes.is_empty() {
            None
        } else {
            Some(notes.join("; "))
        })
    }
}
