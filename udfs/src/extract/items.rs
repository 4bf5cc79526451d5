//! Line items given as JSON instead of a document, in the shapes people have them:
//! - what `billstream extract --json` prints (one document, or an array holding one);
//! - `{"lineItems": [{"cpt", "units", "billedAmount", "serviceDate", "modifiers"}]}`, the shape
//!   other bill checkers and portals export (also `code`/`hcpcs`, `quantity`, `charge`/`amount`,
//!   `date`, `description`, `revenueCode`, `unitPrice`).
//!
//! Lenient where a field can be derived (line number, page, code system, confidence), strict
//! where it cannot (a line without a charge is an error naming the line). Money is read from the
//! JSON text, never through a float.
use super::{Extraction, Line, Totals, REVIEW_THRESHOLD};
use crate::codes::{classify, CodeSystem};
use crate::dates::parse_date;
use crate::money::parse_money;
use rust_decimal::Decimal;
use schemas::records::DocumentKind;
use serde_json::{Map, Value};

/// Reads JSON line items; `kind` is what the caller says the document is (bill, EOB, GFE).
pub fn from_json(bytes: &[u8], kind: DocumentKind) -> Result<Extraction, String> {
    let v: Value = serde_json::from_slice(bytes).map_err(|e| format!("not valid JSON: {e}"))?;
    let doc = match v {
        Value::Array(mut docs) if docs.len() == 1 => docs.remove(0),
        Value::Array(docs) => {
            return Err(format!("{} documents in one JSON array: give one document per file", docs.len()))
        }
        v => v,
    };
    let Value::Object(doc) = doc else { return Err("expected a JSON object with \"lines\" or \"lineItems\"".into()) };
    let items = ["lines", "lineItems", "line_items", "items"]
        .iter()
        .find_map(|k| doc.get(*k))
        .ok_or("no line items: expected a \"lines\" array (billstream extract --json) or \"lineItems\"")?;
    let Value::Array(items) = items else { return Err("\"lines\"/\"lineItems\" must be an array".into()) };
    let lines = items
        .iter()
        .enumerate()
        .map(|(i, item)| match item {
            Value::Object(o) => line(i, o),
            _ => Err(format!("line {}: expected an object", i + 1)),
        })
        .collect::<Result<Vec<Line>, String>>()?;
    let totals = match doc.get("totals") {
        Some(Value::Object(t)) => Totals {
            total_charges: money_field(t, &["total_charges", "totalCharges"])?,
            payments: money_field(t, &["payments"])?,
            adjustments: money_field(t, &["adjustments"])?,
            balance_due: money_field(t, &["balance_due", "balanceDue", "patient_balance"])?,
        },
        _ => Totals::default(),
    };
    let warnings = match doc.get("warnings") {
        Some(Value::Array(w)) => w.iter().filter_map(|w| w.as_str().map(str::to_string)).collect(),
        _ => vec![],
    };
    Ok(Extraction { kind, lines, totals, warnings })
}

fn line(i: usize, o: &Map<String, Value>) -> Result<Line, String> {
    let ctx = |e: String| format!("line {}: {e}", i + 1);
    let text = |keys: &[&str]| keys.iter().find_map(|k| o.get(*k)).and_then(scalar_text);
    let charge = money_field(o, &["charge", "billedAmount", "billed_amount", "amount", "charges", "totalCharge"])
        .map_err(ctx)?
        .ok_or_else(|| ctx("no charge (\"charge\", \"billedAmount\" or \"amount\")".into()))?;
    let code = text(&["code", "cpt", "hcpcs", "cptCode", "procedureCode"]).map(|c| c.trim().to_uppercase());
    let code = code.filter(|c| !c.is_empty());
    let service_date = match text(&["service_date", "serviceDate", "date", "dateOfService", "dos"]) {
        None => None,
        Some(d) => Some(
            parse_date(&d)
                .map(|d| d.format("%Y-%m-%d").to_string())
                .ok_or_else(|| ctx(format!("service date {d:?} is not a date")))?,
        ),
    };
    let units = match o.get("units").or_else(|| o.get("quantity")).or_else(|| o.get("qty")) {
        None | Some(Value::Null) => 1,
        Some(v) => scalar_text(v)
            .and_then(|t| t.trim().parse::<Decimal>().ok())
            .filter(|d| d.fract().is_zero())
            .and_then(|d| d.to_string().parse::<i32>().ok())
            .ok_or_else(|| ctx(format!("units {v} is not a whole number")))?,
    };
    let modifiers = match o.get("modifiers") {
        Some(Value::Array(m)) => m.iter().filter_map(scalar_text).collect(),
        Some(Value::String(s)) => s.split([',', ' ']).filter(|m| !m.is_empty()).map(str::to_string).collect(),
        _ => vec![],
    };
    let code_system = match (text(&["code_system", "codeSystem"]), &code) {
        (Some(s), _) => serde_json::from_value(Value::String(s.to_uppercase())).unwrap_or(CodeSystem::Unknown),
        (None, Some(c)) => classify(c),
        (None, None) => CodeSystem::Unknown,
    };
    let confidence = o.get("confidence").and_then(Value::as_f64).map(|c| c as f32).unwrap_or(1.0);
    Ok(Line {
        line_no: o.get("line_no").and_then(Value::as_u64).map(|n| n as u32).unwrap_or(i as u32 + 1),
        page: o.get("page").and_then(Value::as_u64).map(|n| n as u32).unwrap_or(1),
        service_date,
        code,
        code_system,
        revenue_code: text(&["revenue_code", "revenueCode", "rev"]),
        cdm_code: text(&["cdm_code", "cdmCode", "cdm"]),
        modifiers,
        description: text(&["description", "desc"]).unwrap_or_default(),
        units,
        unit_price: money_field(o, &["unit_price", "unitPrice", "price"]).map_err(ctx)?,
        charge,
        allowed: money_field(o, &["allowed"]).map_err(ctx)?,
        plan_paid: money_field(o, &["plan_paid", "planPaid"]).map_err(ctx)?,
        patient_responsibility: money_field(o, &["patient_responsibility", "patientResponsibility"]).map_err(ctx)?,
        confidence,
        flagged: o.get("flagged").and_then(Value::as_bool).unwrap_or(confidence < REVIEW_THRESHOLD),
    })
}

/// A string or number as text (numbers keep their JSON digits).
fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn money_field(o: &Map<String, Value>, keys: &[&str]) -> Result<Option<Decimal>, String> {
    let Some((k, v)) = keys.iter().find_map(|k| o.get(*k).map(|v| (k, v))) else { return Ok(None) };
    match v {
        Value::Null => Ok(None),
        v => scalar_text(v).and_then(|t| parse_money(&t)).map(Some).ok_or_else(|| format!("{k} {v} is not an amount")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_items_shape_of_other_checkers() {
        let json = br#"{"lineItems":[
            {"cpt":"99285","units":1,"billedAmount":2400.00,"serviceDate":"2026-01-05","modifiers":["25"]},
            {"cpt":"J0696","units":4,"billedAmount":"150.00","serviceDate":"01/05/2026"}]}"#;
        let ex = from_json(json, DocumentKind::Bill).unwrap();
        assert_eq!(ex.lines.len(), 2);
        let (a, b) = (&ex.lines[0], &ex.lines[1]);
        assert_eq!((a.code.as_deref(), a.code_system, a.units), (Some("99285"), CodeSystem::Cpt, 1));
        assert_eq!(a.charge.to_string(), "2400.00", "the JSON digits, not a float");
        assert_eq!(a.modifiers, ["25"]);
        assert_eq!((b.line_no, b.page, b.code_system), (2, 1, CodeSystem::Hcpcs));
        assert_eq!(b.service_date.as_deref(), Some("2026-01-05"));
        assert_eq!((b.units, b.charge.to_string().as_str()), (4, "150.00"));
    }

    #[test]
    fn extract_json_without_page_or_line_numbers() {
        let json = br#"[{"source":"bill.pdf","lines":[{"code":"80053","charge":"36.00","units":1}],
                       "totals":{"total_charges":"36.00"}}]"#;
        let ex = from_json(json, DocumentKind::Bill).unwrap();
        assert_eq!((ex.lines[0].page, ex.lines[0].line_no), (1, 1));
        assert_eq!(ex.totals.total_charges, Some(Decimal::new(3600, 2)));
    }

    #[test]
    fn clear_errors_name_the_line() {
        let e =
            from_json(br#"{"lineItems":[{"cpt":"99213","billedAmount":"10.00"},{"cpt":"99213"}]}"#, DocumentKind::Bill)
                .unwrap_err();
        assert!(e.starts_with("line 2: no charge"), "{e}");
        let e = from_json(br#"{"lineItems":[{"cpt":"99213","billedAmount":"ten"}]}"#, DocumentKind::Bill).unwrap_err();
        assert!(e.contains("is not an amount"), "{e}");
        assert!(from_json(b"{\"x\":1}", DocumentKind::Bill).unwrap_err().contains("no line items"));
        assert!(from_json(b"[{}, {}]", DocumentKind::Bill).unwrap_err().contains("one document per file"));
        assert!(from_json(b"{", DocumentKind::Bill).unwrap_err().starts_with("not valid JSON"));
    }
}
