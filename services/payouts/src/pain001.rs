//! The ISO 20022 customer credit transfer initiation (`pain.001.001.09`) of a run's bank
//! transfers, as a SEPA bank takes it: one payment information block debiting the shop's
//! account, one credit transfer per payout (the payout id as end-to-end id, the vendor's
//! account holder and IBAN as creditor), in euros. Pure: no I/O.

use chrono::{DateTime, NaiveDate, Utc};

/// The namespace of the message version written.
pub const NAMESPACE: &str = "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09";

/// The account the money leaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Debtor<'a> {
    pub name: &'a str,
    pub iban: &'a str,
    pub bic: Option<&'a str>,
}

/// One transfer to a vendor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credit<'a> {
    /// The payout id: unique, at most 35 characters.
    pub end_to_end_id: &'a str,
    /// In euro cents.
    pub amount: i64,
    pub creditor_name: &'a str,
    pub creditor_iban: &'a str,
    /// What the vendor's statement shows.
    pub remittance: &'a str,
}

/// `12345` cents as `123.45`.
fn euros(cents: i64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

/// Text as XML character data, cut to `max` characters: `&`, `<`, `>`, quotes escaped.
fn text(value: &str, max: usize) -> String {
    let mut out = String::new();
    for c in value.chars().take(max) {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// The message `message_id` (at most 35 characters), created at `created`, asking the
/// debtor's bank to execute `credits` on `execution`.
pub fn credit_transfer(
    message_id: &str,
    created: DateTime<Utc>,
    execution: NaiveDate,
    debtor: &Debtor<'_>,
    credits: &[Credit<'_>],
) -> String {
    let count = credits.len();
    let sum = euros(credits.iter().map(|c| c.amount).sum());
    let debtor_agent = match debtor.bic {
        Some(bic) => format!("<BICFI>{}</BICFI>", text(bic, 11)),
        None => "<Othr><Id>NOTPROVIDED</Id></Othr>".to_owned(),
    };
    let mut xml = String::new();
    xml.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    xml.push_str(&format!("<Document xmlns=\"{NAMESPACE}\">\n"));
    xml.push_str("  <CstmrCdtTrfInitn>\n");
    xml.push_str(&format!(
        "    <GrpHdr>\n      <MsgId>{}</MsgId>\n      <CreDtTm>{}</CreDtTm>\n      \
         <NbOfTxs>{count}</NbOfTxs>\n      <CtrlSum>{sum}</CtrlSum>\n      \
         <InitgPty><Nm>{}</Nm></InitgPty>\n    </GrpHdr>\n",
        text(message_id, 35),
        created.format("%Y-%m-%dT%H:%M:%S"),
        text(debtor.name, 70),
    ));
    xml.push_str(&format!(
        "    <PmtInf>\n      <PmtInfId>{}</PmtInfId>\n      <PmtMtd>TRF</PmtMtd>\n      \
         <NbOfTxs>{count}</NbOfTxs>\n      <CtrlSum>{sum}</CtrlSum>\n      \
         <PmtTpInf><SvcLvl><Cd>SEPA</Cd></SvcLvl></PmtTpInf>\n      \
         <ReqdExctnDt><Dt>{execution}</Dt></ReqdExctnDt>\n      \
         <Dbtr><Nm>{}</Nm></Dbtr>\n      \
         <DbtrAcct><Id><IBAN>{}</IBAN></Id></DbtrAcct>\n      \
         <DbtrAgt><FinInstnId>{debtor_agent}</FinInstnId></DbtrAgt>\n      \
         <ChrgBr>SLEV</ChrgBr>\n",
        text(message_id, 35),
        text(debtor.name, 70),
        text(debtor.iban, 34),
    ));
    for c in credits {
        xml.push_str(&format!(
            "      <CdtTrfTxInf>\n        <PmtId><EndToEndId>{}</EndToEndId></PmtId>\n        \
             <Amt><InstdAmt Ccy=\"EUR\">{}</InstdAmt></Amt>\n        \
             <Cdtr><Nm>{}</Nm></Cdtr>\n        \
             <CdtrAcct><Id><IBAN>{}</IBAN></Id></CdtrAcct>\n        \
             <RmtInf><Ustrd>{}</Ustrd></RmtInf>\n      </CdtTrfTxInf>\n",
            text(c.end_to_end_id, 35),
            euros(c.amount),
            text(c.creditor_name, 70),
            text(c.creditor_iban, 34),
            text(c.remittance, 140),
        ));
    }
    xml.push_str("    </PmtInf>\n  </CstmrCdtTrfInitn>\n</Document>\n");
    xml
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every element's path, in document order, and the text right inside it; fails on
    /// anything that is not well-formed XML.
    fn elements(xml: &str) -> Vec<(String, String)> {
        let mut stack: Vec<String> = Vec::new();
        let mut out: Vec<(String, String)> = Vec::new();
        for token in xmlparser::Tokenizer::from(xml) {
            match token.expect("well-formed XML") {
                xmlparser::Token::ElementStart { local, .. } => {
                    stack.push(local.as_str().to_owned());
                    out.push((stack.join("/"), String::new()));
                }
                xmlparser::Token::ElementEnd { end, .. } => match end {
                    xmlparser::ElementEnd::Close(_, local) => {
                        assert_eq!(stack.pop().as_deref(), Some(local.as_str()));
                    }
                    xmlparser::ElementEnd::Empty => {
                        stack.pop();
                    }
                    xmlparser::ElementEnd::Open => {}
                },
                xmlparser::Token::Text { text } => {
                    let path = stack.join("/");
                    if let Some(last) = out.iter_mut().rev().find(|(p, _)| *p == path) {
                        last.1.push_str(text.as_str().trim());
                    }
                }
                _ => {}
            }
        }
        assert!(stack.is_empty(), "unclosed elements: {stack:?}");
        out
    }

    fn value<'a>(els: &'a [(String, String)], path: &str) -> Vec<&'a str> {
        els.iter()
            .filter(|(p, _)| p == path)
            .map(|(_, t)| t.as_str())
            .collect()
    }

    #[test]
    fn a_run_becomes_one_payment_block_with_a_transfer_per_payout() {
        let created = DateTime::parse_from_rfc3339("2026-12-07T10:15:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let xml = credit_transfer(
            "prun_01m98f60xkev89ztxdjgka35qk",
            created,
            NaiveDate::from_ymd_opt(2026, 12, 8).unwrap(),
            &Debtor {
                name: "Acme Marketplace GmbH",
                iban: "DE89370400440532013000",
                bic: None,
            },
            &[
                Credit {
                    end_to_end_id: "po_01",
                    amount: 4_010,
                    creditor_name: "Pots & Pans <GmbH>",
                    creditor_iban: "DE02120300000000202051",
                    remittance: "Mercato payout po_01",
                },
                Credit {
                    end_to_end_id: "po_02",
                    amount: 105,
                    creditor_name: "Nordic Tea",
                    creditor_iban: "NL91ABNA0417164300",
                    remittance: "Mercato payout po_02",
                },
            ],
        );
        assert!(xml.contains(&format!("<Document xmlns=\"{NAMESPACE}\">")));
        let els = elements(&xml);
        let root = "Document/CstmrCdtTrfInitn";
        assert_eq!(value(&els, &format!("{root}/GrpHdr/NbOfTxs")), ["2"]);
        assert_eq!(value(&els, &format!("{root}/GrpHdr/CtrlSum")), ["41.15"]);
        assert_eq!(
            value(&els, &format!("{root}/GrpHdr/CreDtTm")),
            ["2026-12-07T10:15:00"]
        );
        let pmt = format!("{root}/PmtInf");
        assert_eq!(value(&els, &format!("{pmt}/PmtMtd")), ["TRF"]);
        assert_eq!(value(&els, &format!("{pmt}/CtrlSum")), ["41.15"]);
        assert_eq!(
            value(&els, &format!("{pmt}/ReqdExctnDt/Dt")),
            ["2026-12-08"]
        );
        assert_eq!(
            value(&els, &format!("{pmt}/DbtrAcct/Id/IBAN")),
            ["DE89370400440532013000"]
        );
        assert_eq!(
            value(&els, &format!("{pmt}/DbtrAgt/FinInstnId/Othr/Id")),
            ["NOTPROVIDED"]
        );
        let tx = format!("{pmt}/CdtTrfTxInf");
        assert_eq!(
            value(&els, &format!("{tx}/PmtId/EndToEndId")),
            ["po_01", "po_02"]
        );
        assert_eq!(
            value(&els, &format!("{tx}/Amt/InstdAmt")),
            ["40.10", "1.05"]
        );
        // Escaped in the file, read back as given.
        assert!(xml.contains("Pots &amp; Pans &lt;GmbH&gt;"));
        assert_eq!(
            value(&els, &format!("{tx}/CdtrAcct/Id/IBAN")),
            ["DE02120300000000202051", "NL91ABNA0417164300"]
        );
        // The elements of a payment block come in the schema's order.
        let order: Vec<&str> = els
            .iter()
            .filter_map(|(p, _)| p.strip_prefix(&format!("{pmt}/")))
            .filter(|p| !p.contains('/'))
            .collect();
        assert_eq!(
            order,
            [
                "PmtInfId",
                "PmtMtd",
                "NbOfTxs",
                "CtrlSum",
                "PmtTpInf",
                "ReqdExctnDt",
                "Dbtr",
                "DbtrAcct",
                "DbtrAgt",
                "ChrgBr",
                "CdtTrfTxInf",
                "CdtTrfTxInf"
            ]
        );
    }

    #[test]
    fn amounts_print_in_euros_with_two_decimals() {
        assert_eq!(euros(0), "0.00");
        assert_eq!(euros(5), "0.05");
        assert_eq!(euros(123_456), "1234.56");
    }
}
