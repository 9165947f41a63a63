//! Conversation ids: which topic a message belongs to and what it is about.
//!
//! Written `<topic>:<subject>` on the wire and in storage, for example
//! `request:0190f1e2-7c4b-7d21-9a53-1c2b3d4e5f60`. Before topics existed, a request's
//! conversation id was the bare request id; [`ConversationId::parse`] still reads that
//! form as the request topic, so messages and rows written then keep their meaning.

use std::fmt;
use std::str::FromStr;

use uuid::Uuid;

comity_domain::coded_enum! {
    /// What a conversation is about; each topic owns its message types.
    pub enum Topic ("conversation topic") {
        /// A request's lifecycle between its two sides.
        Request = ("request", "request"),
    }
}

/// A federation-wide conversation: one topic and the subject within it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ConversationId {
    topic: Topic,
    subject: String,
}

/// Why a conversation id cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConversationIdError {
    /// The part before `:` names no topic this version knows.
    #[error("unknown conversation topic `{0}`")]
    UnknownTopic(String),
    /// The subject is not what the topic expects.
    #[error("conversation `{id}`: the {topic} topic expects a UUID as subject")]
    BadSubject {
        /// The topic.
        topic: Topic,
        /// The id as given.
        id: String,
    },
}

impl ConversationId {
    /// The conversation about one request.
    pub fn request(request_id: Uuid) -> ConversationId {
        ConversationId {
            topic: Topic::Request,
            subject: request_id.hyphenated().to_string(),
        }
    }

    /// The topic.
    pub fn topic(&self) -> Topic {
        self.topic
    }

    /// The subject within the topic, in its canonical text form.
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// Reads `<topic>:<subject>`, or a bare UUID as the request topic (the form used
    /// before topics existed). The result is canonical: [`fmt::Display`] writes the
    /// prefixed form with a lowercase hyphenated UUID.
    pub fn parse(text: &str) -> Result<ConversationId, ConversationIdError> {
        let Some((topic, subject)) = text.split_once(':') else {
            return Uuid::try_parse(text)
                .map(ConversationId::request)
                .map_err(|_| ConversationIdError::UnknownTopic(text.to_string()));
        };
        let topic: Topic = topic
            .parse()
            .map_err(|_| ConversationIdError::UnknownTopic(topic.to_string()))?;
        match topic {
            Topic::Request => Uuid::try_parse(subject)
                .map(ConversationId::request)
                .map_err(|_| ConversationIdError::BadSubject {
                    topic,
                    id: text.to_string(),
                }),
        }
    }
}

impl fmt::Display for ConversationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.topic.code(), self.subject)
    }
}

impl FromStr for ConversationId {
    type Err = ConversationIdError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        ConversationId::parse(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "0190f1e2-7c4b-7d21-9a53-1c2b3d4e5f60";

    #[test]
    fn a_request_conversation_is_written_with_its_topic_and_reads_back() {
        let id = ConversationId::request(Uuid::try_parse(ID).expect("uuid"));
        let text = id.to_string();
        assert_eq!(text, format!("request:{ID}"));
        assert_eq!(ConversationId::parse(&text), Ok(id.clone()));
        assert_eq!(id.topic(), Topic::Request);
        assert_eq!(id.subject(), ID);
    }

    #[test]
    fn a_bare_request_id_reads_as_the_request_topic_in_canonical_form() {
        let parsed = ConversationId::parse(&ID.to_uppercase()).expect("legacy form");
        assert_eq!(parsed.to_string(), format!("request:{ID}"));
    }

    #[test]
    fn unknown_topics_and_bad_subjects_are_refused_by_name() {
        assert_eq!(
            ConversationId::parse("alerts:es-node"),
            Err(ConversationIdError::UnknownTopic("alerts".into()))
        );
        assert_eq!(
            ConversationId::parse("case-2025-0042"),
            Err(ConversationIdError::UnknownTopic("case-2025-0042".into()))
        );
        assert!(matches!(
            ConversationId::parse("request:not-a-uuid"),
            Err(ConversationIdError::BadSubject {
                topic: Topic::Request,
                ..
            })
        ));
    }
}
