//! Countries as invoices need them: ISO 3166-1 alpha-2 codes Mercato knows, which of them
//! are member states of the European Union, and what a VAT identification number must look
//! like to be taken at its word (its two-letter prefix is the member state's — `EL` for
//! Greece — followed by 2 to 13 letters or digits). "Valid-looking" is all this checks: a
//! number's registration (VIES) is the shop's to confirm.

/// Every officially assigned ISO 3166-1 alpha-2 code.
const CODES: &str = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI \
    BJ BL BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX \
    CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL \
    GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP \
    KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK \
    ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE \
    PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM \
    SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY \
    UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW";

/// The 27 member states of the European Union.
const EU: [&str; 27] = [
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT",
    "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
];

/// Whether `code` is an ISO 3166-1 alpha-2 code (upper case) Mercato knows.
pub fn is_known(code: &str) -> bool {
    code.len() == 2
        && code.bytes().all(|b| b.is_ascii_uppercase())
        && CODES.split_ascii_whitespace().any(|c| c == code)
}

/// Whether `code` is a member state of the European Union.
pub fn is_eu(code: &str) -> bool {
    EU.contains(&code)
}

/// The prefix of VAT ids issued by `country`: its code, but `EL` for Greece.
pub fn vat_prefix(country: &str) -> &str {
    if country == "GR" { "EL" } else { country }
}

/// Why a VAT id cannot be taken.
pub const VAT_ID_SHAPE: &str = "a VAT id: the country's prefix (EL for Greece) and 2 to 13 letters or digits, e.g. DE123456789";

/// `vat_id` as kept (spaces, dots and dashes out, upper case) when it looks like one issued
/// by `country`: the country's prefix, then 2 to 13 letters or digits.
pub fn normalize_vat_id(country: &str, vat_id: &str) -> Result<String, &'static str> {
    let id: String = vat_id
        .chars()
        .filter(|c| !matches!(c, ' ' | '.' | '-'))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let prefix = vat_prefix(country);
    let Some(rest) = id.strip_prefix(prefix) else {
        return Err(VAT_ID_SHAPE);
    };
    if prefix.len() == 2
        && (2..=13).contains(&rest.len())
        && rest.bytes().all(|b| b.is_ascii_alphanumeric())
    {
        Ok(id)
    } else {
        Err(VAT_ID_SHAPE)
    }
}

/// Whether `vat_id` (as kept) looks like one issued by `country`.
pub fn vat_id_looks_valid(country: &str, vat_id: &str) -> bool {
    normalize_vat_id(country, vat_id).is_ok_and(|id| id == vat_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_known_eu_members_are_marked_and_greece_is_el() {
        assert!(is_known("DE") && is_known("GR") && is_known("US") && is_known("ZW"));
        assert!(!is_known("XX") && !is_known("de") && !is_known("DEU") && !is_known("EL"));
        assert!(is_eu("AT") && is_eu("GR") && !is_eu("CH") && !is_eu("GB"));
        assert!(EU.iter().all(|c| is_known(c)));
        assert_eq!(vat_prefix("GR"), "EL");
        assert_eq!(vat_prefix("AT"), "AT");
    }

    #[test]
    fn a_vat_id_needs_the_countrys_prefix_and_2_to_13_alphanumerics() {
        assert_eq!(
            normalize_vat_id("DE", "de 123.456-789"),
            Ok("DE123456789".into())
        );
        assert_eq!(
            normalize_vat_id("AT", "ATU12345678"),
            Ok("ATU12345678".into())
        );
        assert_eq!(
            normalize_vat_id("GR", "EL123456789"),
            Ok("EL123456789".into())
        );
        assert!(normalize_vat_id("GR", "GR123456789").is_err());
        assert!(normalize_vat_id("DE", "FR12345678901").is_err());
        assert!(normalize_vat_id("DE", "DE1").is_err());
        assert!(normalize_vat_id("DE", "DE12345678901234").is_err());
        assert!(normalize_vat_id("DE", "DE12_456").is_err());
        assert!(vat_id_looks_valid("AT", "ATU12345678"));
        assert!(!vat_id_looks_valid("AT", "atu12345678"));
    }
}
