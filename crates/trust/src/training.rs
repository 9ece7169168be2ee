//! The platform-rules course every streamer passes before a first broadcast: short lessons
//! and a quiz graded here, so the gate does not depend on the page that shows it.

use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct Lesson {
    pub title: &'static str,
    pub text: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct Question {
    pub text: &'static str,
    pub options: &'static [&'static str],
    /// Index into `options`; never sent to the page.
    #[serde(skip)]
    pub answer: usize,
}

pub const LESSONS: &[Lesson] = &[
    Lesson {
        title: "Say only what is true",
        text: "No absolute or medical claims: not \"the best\", \"No. 1\", \"cures\", \"100% effective\" (nor 最佳, 第一, 治愈). Titles, descriptions, pinned messages and announcements are checked before they are shown.",
    },
    Lesson {
        title: "Label paid promotion",
        text: "A product someone paid you to show carries an \"Ad · paid partnership\" label (广告 under cn) that the platform adds and repeats; say whether you have used the product yourself.",
    },
    Lesson {
        title: "Real figures only",
        text: "Viewer counts, likes and sales are computed from real sessions and orders. Buying your own products, asking friends to order and return, or paying for viewers is brushing: earnings are held and the account sanctioned.",
    },
    Lesson {
        title: "Minors",
        text: "Minors cannot send gifts or buy coins and their purchases are capped. Never ask viewers for gifts, and never address a viewer you believe to be a child to spend.",
    },
    Lesson {
        title: "Regulated products",
        text: "Food, cosmetics, health, finance and education products need an approved credential of the seller before they can be pinned. Prize draws have a capped top prize and, under us rules, a free way to enter.",
    },
];

pub const QUIZ: &[Question] = &[
    Question {
        text: "May a product title say \"cures back pain\"?",
        options: &[
            "Yes, if it is true",
            "No, medical claims are refused",
            "Only in Chinese",
        ],
        answer: 1,
    },
    Question {
        text: "A brand paid for your slot. What does the viewer see?",
        options: &[
            "Nothing",
            "An \"Ad · paid partnership\" label on the card and in the room",
            "Only the price",
        ],
        answer: 1,
    },
    Question {
        text: "Friends offer to order and then return to make the show look busy. This is:",
        options: &[
            "Fine, returns are free",
            "Brushing: earnings held and the account sanctioned",
            "Fine below 10 orders",
        ],
        answer: 1,
    },
    Question {
        text: "A 15-year-old viewer wants to send you a gift.",
        options: &[
            "The platform refuses it",
            "Accept it with thanks",
            "Ask for a smaller gift",
        ],
        answer: 0,
    },
    Question {
        text: "You want to pin a health supplement.",
        options: &[
            "Pin it",
            "The seller needs an approved health credential first",
            "Pin it without a price",
        ],
        answer: 1,
    },
];

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Grade {
    pub correct: usize,
    pub total: usize,
    pub passed: bool,
    /// Indexes of the questions answered wrongly, so the page can point at the lesson.
    pub wrong: Vec<usize>,
}

/// Grades answers (one option index per question, in order); missing answers are wrong.
pub fn grade(answers: &[usize], pass_bps: u32) -> Grade {
    let wrong: Vec<usize> = QUIZ
        .iter()
        .enumerate()
        .filter(|(i, q)| answers.get(*i) != Some(&q.answer))
        .map(|(i, _)| i)
        .collect();
    let total = QUIZ.len();
    let correct = total - wrong.len();
    Grade {
        correct,
        total,
        passed: correct as u64 * 10_000 >= total as u64 * pass_bps as u64,
        wrong,
    }
}

/// The right answers, for tests and the demo seed (which passes the course for its streamers).
pub fn answer_key() -> Vec<usize> {
    QUIZ.iter().map(|q| q.answer).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grading() {
        let key = answer_key();
        assert!(grade(&key, 8_000).passed);
        let mut one_wrong = key.clone();
        one_wrong[0] = 0;
        let g = grade(&one_wrong, 8_000);
        assert_eq!((g.correct, g.passed, g.wrong.clone()), (4, true, vec![0]));
        let mut two_wrong = one_wrong.clone();
        two_wrong[3] = 2;
        assert!(!grade(&two_wrong, 8_000).passed);
        assert!(!grade(&[], 8_000).passed);
        assert!(!grade(&key, 10_001).passed || key.is_empty());
        assert!(QUIZ.iter().all(|q| q.answer < q.options.len()));
    }
}
