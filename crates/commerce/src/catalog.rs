//! What a product is: its category (some are regulated) and its return-policy class.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    Food,
    Cosmetics,
    Health,
    Fashion,
    Jewellery,
    Electronics,
    Home,
    Vehicles,
    Property,
    Education,
    Finance,
    Other,
}

impl Category {
    pub const ALL: [Category; 12] = [
        Category::Food,
        Category::Cosmetics,
        Category::Health,
        Category::Fashion,
        Category::Jewellery,
        Category::Electronics,
        Category::Home,
        Category::Vehicles,
        Category::Property,
        Category::Education,
        Category::Finance,
        Category::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Category::Food => "food",
            Category::Cosmetics => "cosmetics",
            Category::Health => "health",
            Category::Fashion => "fashion",
            Category::Jewellery => "jewellery",
            Category::Electronics => "electronics",
            Category::Home => "home",
            Category::Vehicles => "vehicles",
            Category::Property => "property",
            Category::Education => "education",
            Category::Finance => "finance",
            Category::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Category::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// Selling these needs credentials the trust layer checks before a pin.
    pub fn regulated(self) -> bool {
        matches!(
            self,
            Category::Food
                | Category::Cosmetics
                | Category::Health
                | Category::Education
                | Category::Finance
        )
    }
}

/// How returns work for a product, before the law profile has its say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReturnClass {
    Normal,
    Perishable,
    CustomMade,
    Digital,
}

impl ReturnClass {
    pub fn as_str(self) -> &'static str {
        match self {
            ReturnClass::Normal => "normal",
            ReturnClass::Perishable => "perishable",
            ReturnClass::CustomMade => "custom_made",
            ReturnClass::Digital => "digital",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "normal" => Some(ReturnClass::Normal),
            "perishable" => Some(ReturnClass::Perishable),
            "custom_made" => Some(ReturnClass::CustomMade),
            "digital" => Some(ReturnClass::Digital),
            _ => None,
        }
    }
    /// Exceptions to no-reason returns: shown on the card and confirmed by the buyer.
    pub fn is_exception(self) -> bool {
        !matches!(self, ReturnClass::Normal)
    }
    pub fn buyer_notice(self) -> Option<&'static str> {
        match self {
            ReturnClass::Normal => None,
            ReturnClass::Perishable => {
                Some("Perishable goods cannot be returned without a defect.")
            }
            ReturnClass::CustomMade => {
                Some("Made to order: it cannot be returned without a defect.")
            }
            ReturnClass::Digital => {
                Some("Digital content cannot be returned once it has been opened.")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_regulation() {
        for c in Category::ALL {
            assert_eq!(Category::parse(c.as_str()), Some(c));
        }
        assert!(Category::Food.regulated() && !Category::Jewellery.regulated());
        for r in [
            ReturnClass::Normal,
            ReturnClass::Perishable,
            ReturnClass::CustomMade,
            ReturnClass::Digital,
        ] {
            assert_eq!(ReturnClass::parse(r.as_str()), Some(r));
            assert_eq!(r.is_exception(), r.buyer_notice().is_some());
        }
    }
}
