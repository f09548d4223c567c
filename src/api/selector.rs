//! Label and field selectors, parsed and matched exactly as kube-apiserver does.
//!
//! - [`LabelSelector`]: the `labelSelector` query grammar (`=`, `==`, `!=`, `in (..)`,
//!   `notin (..)`, `key`, `!key`, `>`/`<`), `metav1.LabelSelector` objects
//!   (`matchLabels`/`matchExpressions`), and the canonical string (`app=web`) that `status.selector`
//!   of the scale subresource carries.
//! - [`FieldSelector`]: the `fieldSelector` grammar (`=`, `==`, `!=`, `\`-escapes), the fields each
//!   resource supports, and [`value_of`] to read them from a stored object.
//!
//! Errors carry kube-apiserver's exact text; the API layer answers them with 400 BadRequest
//! (`impl From<SelectorError> for Status`).

use std::fmt;

use serde_json::{Map, Value};

use crate::api::model::ResourceInfo;
use crate::api::status::Status;
use crate::api::validation::field_error::go_quote;
use crate::api::validation::labels::{label_value, qualified_name};

/// A selector that could not be parsed, or names a field the resource does not support.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SelectorError {
    /// kube-apiserver's message, e.g. `found '=', expected: ',' or 'end of string'`.
    pub message: String,
}

impl SelectorError {
    fn new(message: impl Into<String>) -> Self {
        SelectorError {
            message: message.into(),
        }
    }
}

impl fmt::Display for SelectorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SelectorError {}

impl From<SelectorError> for Status {
    fn from(e: SelectorError) -> Self {
        Status::bad_request(e.message)
    }
}

// ---------------------------------------------------------------------------------------------
// Label selectors
// ---------------------------------------------------------------------------------------------

/// The operator of a label requirement.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operator {
    /// `key=value`
    Equals,
    /// `key==value`
    DoubleEquals,
    /// `key!=value`
    NotEquals,
    /// `key in (a,b)`
    In,
    /// `key notin (a,b)`
    NotIn,
    /// `key`
    Exists,
    /// `!key`
    DoesNotExist,
    /// `key>3` (the value is an integer)
    GreaterThan,
    /// `key<3`
    LessThan,
}

impl Operator {
    /// The name apimachinery gives the operator (`selection.Operator`).
    pub fn as_str(self) -> &'static str {
        match self {
            Operator::Equals => "=",
            Operator::DoubleEquals => "==",
            Operator::NotEquals => "!=",
            Operator::In => "in",
            Operator::NotIn => "notin",
            Operator::Exists => "exists",
            Operator::DoesNotExist => "!",
            Operator::GreaterThan => "gt",
            Operator::LessThan => "lt",
        }
    }
}

/// The binary operators, in the order apimachinery lists them in its messages.
const BINARY_OPERATORS: &str = "in, notin, =, ==, !=, gt, lt";

/// One requirement of a label selector: a key, an operator and (sorted, unique) values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Requirement {
    key: String,
    operator: Operator,
    values: Vec<String>,
}

impl Requirement {
    /// A requirement, checked as apimachinery's `NewRequirement` checks it (errors name the
    /// `key` and `values[i]` fields, as when no field path is given).
    fn new(key: &str, operator: Operator, mut values: Vec<String>) -> Result<Self, SelectorError> {
        values.sort();
        values.dedup();
        let mut errs: Vec<String> = Vec::new();
        let key_errs = qualified_name(key);
        if !key_errs.is_empty() {
            errs.push(format!(
                "key: Invalid value: {}: {}",
                go_quote(key),
                key_errs.join("; ")
            ));
        }
        match operator {
            Operator::In | Operator::NotIn if values.is_empty() => errs.push(format!(
                "values: Invalid value: {}: for 'in', 'notin' operators, values set can't be empty",
                go_string_slice(&values)
            )),
            Operator::Equals | Operator::DoubleEquals | Operator::NotEquals
                if values.len() != 1 =>
            {
                errs.push(format!(
                    "values: Invalid value: {}: exact-match compatibility requires one single value",
                    go_string_slice(&values)
                ))
            }
            Operator::Exists | Operator::DoesNotExist if !values.is_empty() => errs.push(format!(
                "values: Invalid value: {}: values set must be empty for exists and does not exist",
                go_string_slice(&values)
            )),
            Operator::GreaterThan | Operator::LessThan => {
                if values.len() != 1 {
                    errs.push(format!(
                        "values: Invalid value: {}: for 'Gt', 'Lt' operators, exactly one value is required",
                        go_string_slice(&values)
                    ));
                }
                for (i, v) in values.iter().enumerate() {
                    if go_parse_int(v).is_none() {
                        errs.push(format!(
                            "values[{i}]: Invalid value: {}: for 'Gt', 'Lt' operators, the value must be an integer",
                            go_quote(v)
                        ));
                    }
                }
            }
            _ => {}
        }
        for (i, v) in values.iter().enumerate() {
            let msgs = label_value(v);
            if !msgs.is_empty() {
                errs.push(format!(
                    "values[{i}][{key}]: Invalid value: {}: {}",
                    go_quote(v),
                    msgs.join("; ")
                ));
            }
        }
        if errs.is_empty() {
            Ok(Requirement {
                key: key.to_string(),
                operator,
                values,
            })
        } else {
            Err(SelectorError::new(aggregate_messages(errs)))
        }
    }

    /// The label key.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The operator.
    pub fn operator(&self) -> Operator {
        self.operator
    }

    /// The values, sorted.
    pub fn values(&self) -> &[String] {
        &self.values
    }

    fn matches(&self, labels: Option<&Map<String, Value>>) -> bool {
        let get = |k: &str| labels.and_then(|l| l.get(k)).map(label_text);
        match self.operator {
            Operator::In | Operator::Equals | Operator::DoubleEquals => {
                get(&self.key).is_some_and(|v| self.values.contains(&v))
            }
            Operator::NotIn | Operator::NotEquals => {
                get(&self.key).is_none_or(|v| !self.values.contains(&v))
            }
            Operator::Exists => get(&self.key).is_some(),
            Operator::DoesNotExist => get(&self.key).is_none(),
            Operator::GreaterThan | Operator::LessThan => {
                let Some(have) = get(&self.key).and_then(|v| go_parse_int(&v)) else {
                    return false;
                };
                let Some(want) = self.values.first().and_then(|v| go_parse_int(v)) else {
                    return false;
                };
                if self.operator == Operator::GreaterThan {
                    have > want
                } else {
                    have < want
                }
            }
        }
    }
}

impl fmt::Display for Requirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let values = self.values.join(",");
        match self.operator {
            Operator::DoesNotExist => write!(f, "!{}", self.key),
            Operator::Exists => write!(f, "{}", self.key),
            Operator::Equals => write!(f, "{}={values}", self.key),
            Operator::DoubleEquals => write!(f, "{}=={values}", self.key),
            Operator::NotEquals => write!(f, "{}!={values}", self.key),
            Operator::In => write!(f, "{} in ({values})", self.key),
            Operator::NotIn => write!(f, "{} notin ({values})", self.key),
            Operator::GreaterThan => write!(f, "{}>{values}", self.key),
            Operator::LessThan => write!(f, "{}<{values}", self.key),
        }
    }
}

/// A label selector: requirements that must all hold. The empty selector matches everything;
/// [`LabelSelector::nothing`] (what a missing `metav1.LabelSelector` means) matches nothing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LabelSelector {
    requirements: Vec<Requirement>,
    nothing: bool,
}

impl LabelSelector {
    /// The selector that matches every object.
    pub fn everything() -> Self {
        LabelSelector::default()
    }

    /// The selector that matches no object.
    pub fn nothing() -> Self {
        LabelSelector {
            requirements: Vec::new(),
            nothing: true,
        }
    }

    /// Parses a `labelSelector` query value as kube-apiserver (`labels.Parse`) does.
    pub fn parse(selector: &str) -> Result<Self, SelectorError> {
        let mut requirements = LabelParser::new(selector).parse()?;
        requirements.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(LabelSelector {
            requirements,
            nothing: false,
        })
    }

    /// A selector from a `metav1.LabelSelector` object (`matchLabels` and `matchExpressions` with
    /// `In`, `NotIn`, `Exists`, `DoesNotExist`). `null` selects nothing, `{}` everything.
    pub fn from_json(selector: &Value) -> Result<Self, SelectorError> {
        let Some(obj) = selector.as_object() else {
            return Ok(LabelSelector::nothing());
        };
        let mut requirements = Vec::new();
        if let Some(labels) = obj.get("matchLabels").and_then(Value::as_object) {
            for (k, v) in labels {
                requirements.push(Requirement::new(k, Operator::Equals, vec![label_text(v)])?);
            }
        }
        if let Some(exprs) = obj.get("matchExpressions").and_then(Value::as_array) {
            for expr in exprs {
                let text = |k: &str| expr.get(k).and_then(Value::as_str).unwrap_or_default();
                let operator = match text("operator") {
                    "In" => Operator::In,
                    "NotIn" => Operator::NotIn,
                    "Exists" => Operator::Exists,
                    "DoesNotExist" => Operator::DoesNotExist,
                    other => {
                        return Err(SelectorError::new(format!(
                            "{} is not a valid label selector operator",
                            go_quote(other)
                        )));
                    }
                };
                let values = expr
                    .get("values")
                    .and_then(Value::as_array)
                    .map(|vs| vs.iter().map(label_text).collect())
                    .unwrap_or_default();
                requirements.push(Requirement::new(text("key"), operator, values)?);
            }
        }
        requirements.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(LabelSelector {
            requirements,
            nothing: false,
        })
    }

    /// A selector that requires exactly these labels (a Service's `spec.selector`); like
    /// Kubernetes' `SelectorFromSet`, the keys and values are not validated.
    pub fn from_labels(labels: &Map<String, Value>) -> Self {
        let requirements = labels
            .iter()
            .map(|(k, v)| Requirement {
                key: k.clone(),
                operator: Operator::Equals,
                values: vec![label_text(v)],
            })
            .collect();
        LabelSelector {
            requirements,
            nothing: false,
        }
    }

    /// `true` when the selector restricts nothing (it matches every object).
    pub fn is_empty(&self) -> bool {
        !self.nothing && self.requirements.is_empty()
    }

    /// The requirements, sorted by key.
    pub fn requirements(&self) -> &[Requirement] {
        &self.requirements
    }

    /// Whether an object with these labels is selected (`None`: the object has no labels).
    pub fn matches(&self, labels: Option<&Map<String, Value>>) -> bool {
        !self.nothing && self.requirements.iter().all(|r| r.matches(labels))
    }

    /// Whether an object (its `metadata.labels`) is selected.
    pub fn matches_object(&self, obj: &Value) -> bool {
        self.matches(
            obj.get("metadata")
                .and_then(|m| m.get("labels"))
                .and_then(Value::as_object),
        )
    }
}

/// The canonical form: requirements sorted by key, joined by `,` (`app=web,tier in (a,b)`). The
/// nothing selector prints as the empty string, as in Kubernetes.
impl fmt::Display for LabelSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, r) in self.requirements.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{r}")?;
        }
        Ok(())
    }
}

/// A label value as text (labels are strings; anything else is read as its JSON text).
fn label_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Go's `%#v` of a `[]string`: `[]string{"a", "b"}`.
fn go_string_slice(values: &[String]) -> String {
    let quoted: Vec<String> = values.iter().map(|v| go_quote(v)).collect();
    format!("[]string{{{}}}", quoted.join(", "))
}

/// Go's `strconv.ParseInt(s, 10, 64)`: an optional sign and decimal digits.
fn go_parse_int(s: &str) -> Option<i64> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Several messages as apimachinery's aggregate error prints them.
fn aggregate_messages(mut msgs: Vec<String>) -> String {
    let mut seen: Vec<String> = Vec::new();
    for m in msgs.drain(..) {
        if !seen.contains(&m) {
            seen.push(m);
        }
    }
    if seen.len() == 1 {
        seen.remove(0)
    } else {
        format!("[{}]", seen.join(", "))
    }
}

/// A token of the label selector grammar, with its literal (what messages quote).
#[derive(Clone, Debug, PartialEq, Eq)]
enum Token {
    Error(String),
    End,
    ClosedPar,
    Comma,
    Bang,
    DoubleEquals,
    Equals,
    GreaterThan,
    Identifier(String),
    In,
    LessThan,
    NotEquals,
    NotIn,
    OpenPar,
}

impl Token {
    fn literal(&self) -> &str {
        match self {
            Token::Error(s) | Token::Identifier(s) => s,
            Token::End => "",
            Token::ClosedPar => ")",
            Token::Comma => ",",
            Token::Bang => "!",
            Token::DoubleEquals => "==",
            Token::Equals => "=",
            Token::GreaterThan => ">",
            Token::In => "in",
            Token::LessThan => "<",
            Token::NotEquals => "!=",
            Token::NotIn => "notin",
            Token::OpenPar => "(",
        }
    }

    /// A fixed token for this text, if it is one.
    fn keyword(s: &str) -> Option<Token> {
        Some(match s {
            ")" => Token::ClosedPar,
            "," => Token::Comma,
            "!" => Token::Bang,
            "==" => Token::DoubleEquals,
            "=" => Token::Equals,
            ">" => Token::GreaterThan,
            "in" => Token::In,
            "<" => Token::LessThan,
            "!=" => Token::NotEquals,
            "notin" => Token::NotIn,
            "(" => Token::OpenPar,
            _ => return None,
        })
    }
}

fn is_whitespace(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

fn is_special(b: u8) -> bool {
    matches!(b, b'=' | b'!' | b'(' | b')' | b',' | b'>' | b'<')
}

/// Splits a selector into tokens the way apimachinery's lexer does (bytes, not characters).
fn lex(s: &str) -> Vec<Token> {
    let b = s.as_bytes();
    let mut pos = 0;
    let mut out = Vec::new();
    loop {
        while pos < b.len() && is_whitespace(b[pos]) {
            pos += 1;
        }
        if pos >= b.len() {
            out.push(Token::End);
            return out;
        }
        if is_special(b[pos]) {
            // Longest run of special characters that still forms a token.
            let start = pos;
            let mut last: Option<(Token, usize)> = None;
            while pos < b.len() && is_special(b[pos]) {
                pos += 1;
                match Token::keyword(&s[start..pos]) {
                    Some(t) => last = Some((t, pos)),
                    None if last.is_some() => {
                        pos -= 1;
                        break;
                    }
                    None => {}
                }
            }
            match last {
                Some((t, end)) => {
                    pos = end;
                    out.push(t);
                }
                None => out.push(Token::Error(format!(
                    "error expected: keyword found '{}'",
                    &s[start..pos]
                ))),
            }
        } else {
            let start = pos;
            while pos < b.len() && !is_special(b[pos]) && !is_whitespace(b[pos]) {
                pos += 1;
            }
            let word = &s[start..pos];
            out.push(match word {
                "in" => Token::In,
                "notin" => Token::NotIn,
                _ => Token::Identifier(word.to_string()),
            });
        }
    }
}

/// Whether `in`/`notin` are keywords (after a key) or plain words (where values are expected).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Context {
    KeyAndOperator,
    Values,
}

/// The recursive-descent parser of `labels.Parse`, message for message.
struct LabelParser {
    tokens: Vec<Token>,
    position: usize,
}

impl LabelParser {
    fn new(selector: &str) -> Self {
        LabelParser {
            tokens: lex(selector),
            position: 0,
        }
    }

    fn at(&self, i: usize, ctx: Context) -> Token {
        let t = self.tokens.get(i).cloned().unwrap_or(Token::End);
        match t {
            Token::In if ctx == Context::Values => Token::Identifier("in".into()),
            Token::NotIn if ctx == Context::Values => Token::Identifier("notin".into()),
            t => t,
        }
    }

    fn lookahead(&self, ctx: Context) -> Token {
        self.at(self.position, ctx)
    }

    fn consume(&mut self, ctx: Context) -> Token {
        let t = self.at(self.position, ctx);
        self.position += 1;
        t
    }

    fn parse(&mut self) -> Result<Vec<Requirement>, SelectorError> {
        let mut requirements = Vec::new();
        loop {
            let t = self.lookahead(Context::Values);
            match t {
                Token::Identifier(_) | Token::Bang => {
                    let r = self.requirement().map_err(|e| {
                        SelectorError::new(format!("unable to parse requirement: {e}"))
                    })?;
                    requirements.push(r);
                    let t = self.consume(Context::Values);
                    match t {
                        Token::End => return Ok(requirements),
                        Token::Comma => {
                            let t2 = self.lookahead(Context::Values);
                            if !matches!(t2, Token::Identifier(_) | Token::Bang) {
                                return Err(SelectorError::new(format!(
                                    "found '{}', expected: identifier after ','",
                                    t2.literal()
                                )));
                            }
                        }
                        other => {
                            return Err(SelectorError::new(format!(
                                "found '{}', expected: ',' or 'end of string'",
                                other.literal()
                            )));
                        }
                    }
                }
                Token::End => return Ok(requirements),
                other => {
                    return Err(SelectorError::new(format!(
                        "found '{}', expected: !, identifier, or 'end of string'",
                        other.literal()
                    )));
                }
            }
        }
    }

    fn requirement(&mut self) -> Result<Requirement, SelectorError> {
        let (key, inferred) = self.key_and_inferred_operator()?;
        if let Some(op @ (Operator::Exists | Operator::DoesNotExist)) = inferred {
            return Requirement::new(&key, op, Vec::new());
        }
        let operator = self.operator()?;
        let values = match operator {
            Operator::In | Operator::NotIn => self.values()?,
            _ => self.exact_value()?,
        };
        Requirement::new(&key, operator, values)
    }

    fn key_and_inferred_operator(&mut self) -> Result<(String, Option<Operator>), SelectorError> {
        let mut operator = None;
        let mut t = self.consume(Context::Values);
        if t == Token::Bang {
            operator = Some(Operator::DoesNotExist);
            t = self.consume(Context::Values);
        }
        let Token::Identifier(key) = t else {
            return Err(SelectorError::new(format!(
                "found '{}', expected: identifier",
                t.literal()
            )));
        };
        let errs = qualified_name(&key);
        if !errs.is_empty() {
            // The parser checks the key with no field path, which Go prints as `<nil>`.
            return Err(SelectorError::new(format!(
                "<nil>: Invalid value: {}: {}",
                go_quote(&key),
                errs.join("; ")
            )));
        }
        if matches!(self.lookahead(Context::Values), Token::End | Token::Comma)
            && operator != Some(Operator::DoesNotExist)
        {
            operator = Some(Operator::Exists);
        }
        Ok((key, operator))
    }

    fn operator(&mut self) -> Result<Operator, SelectorError> {
        Ok(match self.consume(Context::KeyAndOperator) {
            Token::In => Operator::In,
            Token::Equals => Operator::Equals,
            Token::DoubleEquals => Operator::DoubleEquals,
            Token::GreaterThan => Operator::GreaterThan,
            Token::LessThan => Operator::LessThan,
            Token::NotIn => Operator::NotIn,
            Token::NotEquals => Operator::NotEquals,
            other => {
                return Err(SelectorError::new(format!(
                    "found '{}', expected: {BINARY_OPERATORS}",
                    other.literal()
                )));
            }
        })
    }

    fn values(&mut self) -> Result<Vec<String>, SelectorError> {
        let t = self.consume(Context::Values);
        if t != Token::OpenPar {
            return Err(SelectorError::new(format!(
                "found '{}' expected: '('",
                t.literal()
            )));
        }
        let t = self.lookahead(Context::Values);
        match t {
            Token::Identifier(_) | Token::Comma => {
                let values = self.identifiers()?;
                if self.consume(Context::Values) != Token::ClosedPar {
                    // apimachinery quotes the token it looked at before the list here.
                    return Err(SelectorError::new(format!(
                        "found '{}', expected: ')'",
                        t.literal()
                    )));
                }
                Ok(values)
            }
            Token::ClosedPar => {
                self.consume(Context::Values);
                Ok(vec![String::new()])
            }
            other => Err(SelectorError::new(format!(
                "found '{}', expected: ',', ')' or identifier",
                other.literal()
            ))),
        }
    }

    /// A comma-separated list where empty entries mean the empty value (`(a,,b)`, `(,a)`).
    fn identifiers(&mut self) -> Result<Vec<String>, SelectorError> {
        let mut values: Vec<String> = Vec::new();
        loop {
            match self.consume(Context::Values) {
                Token::Identifier(v) => {
                    values.push(v);
                    match self.lookahead(Context::Values) {
                        Token::Comma => continue,
                        Token::ClosedPar => return Ok(values),
                        other => {
                            return Err(SelectorError::new(format!(
                                "found '{}', expected: ',' or ')'",
                                other.literal()
                            )));
                        }
                    }
                }
                Token::Comma => {
                    if values.is_empty() {
                        values.push(String::new());
                    }
                    match self.lookahead(Context::Values) {
                        Token::ClosedPar => {
                            values.push(String::new());
                            return Ok(values);
                        }
                        Token::Comma => values.push(String::new()),
                        _ => {}
                    }
                }
                other => {
                    return Err(SelectorError::new(format!(
                        "found '{}', expected: ',', or identifier",
                        other.literal()
                    )));
                }
            }
        }
    }

    fn exact_value(&mut self) -> Result<Vec<String>, SelectorError> {
        if matches!(self.lookahead(Context::Values), Token::End | Token::Comma) {
            return Ok(vec![String::new()]);
        }
        match self.consume(Context::Values) {
            Token::Identifier(v) => Ok(vec![v]),
            other => Err(SelectorError::new(format!(
                "found '{}', expected: identifier",
                other.literal()
            ))),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Field selectors
// ---------------------------------------------------------------------------------------------

/// One term of a field selector: `field=value` or `field!=value`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldTerm {
    /// The field, e.g. `metadata.name`.
    pub field: String,
    /// The (unescaped) value.
    pub value: String,
    /// `!=` rather than `=`/`==`.
    pub negated: bool,
}

/// A field selector: terms that must all hold.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldSelector {
    terms: Vec<FieldTerm>,
}

impl FieldSelector {
    /// Parses a `fieldSelector` value as `fields.ParseSelector` does, without checking that the
    /// fields exist (see [`FieldSelector::parse_for`]).
    pub fn parse(selector: &str) -> Result<Self, SelectorError> {
        let mut parts = split_terms(selector);
        parts.sort();
        let mut terms = Vec::new();
        for part in parts.iter().filter(|p| !p.is_empty()) {
            let Some((lhs, op, rhs)) = split_term(part) else {
                return Err(SelectorError::new(format!(
                    "invalid selector: '{selector}'; can't understand '{part}'"
                )));
            };
            terms.push(FieldTerm {
                field: lhs.to_string(),
                value: unescape_value(rhs)?,
                negated: op == "!=",
            });
        }
        Ok(FieldSelector { terms })
    }

    /// Parses and checks every field against what `resource` supports, with kube-apiserver's
    /// message for an unsupported one. Legacy spellings are rewritten (`spec.host` on pods).
    pub fn parse_for(resource: &ResourceInfo, selector: &str) -> Result<Self, SelectorError> {
        let mut parsed = Self::parse(selector)?;
        let fields = supported_fields(resource);
        for term in &mut parsed.terms {
            if let Some((_, to)) = fields.aliases.iter().find(|(from, _)| *from == term.field) {
                term.field = (*to).to_string();
            } else if !fields.fields.contains(&term.field.as_str()) {
                return Err(SelectorError::new(fields.reject.message(&term.field)));
            }
        }
        Ok(parsed)
    }

    /// `true` when the selector restricts nothing.
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// The terms.
    pub fn terms(&self) -> &[FieldTerm] {
        &self.terms
    }

    /// The value a field must equal, when the selector pins it (`metadata.name=web`): lets a
    /// list or watch go straight to one object.
    pub fn requires_exact_match(&self, field: &str) -> Option<&str> {
        self.terms
            .iter()
            .find(|t| t.field == field && !t.negated)
            .map(|t| t.value.as_str())
    }

    /// Whether an object is selected; `get` gives the value of a field (`None` counts as empty,
    /// as a field kube-apiserver does not set for an object).
    pub fn matches(&self, get: impl Fn(&str) -> Option<String>) -> bool {
        self.terms.iter().all(|t| {
            let have = get(&t.field).unwrap_or_default();
            (have == t.value) != t.negated
        })
    }

    /// Whether a stored object is selected, its fields read with [`value_of`].
    pub fn matches_object(&self, obj: &Value) -> bool {
        self.matches(|f| value_of(obj, f))
    }
}

/// The canonical form: terms joined by `,`, values escaped (`\\`, `\,`, `\=`).
impl fmt::Display for FieldSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, t) in self.terms.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            let op = if t.negated { "!=" } else { "=" };
            let value = t
                .value
                .replace('\\', "\\\\")
                .replace(',', "\\,")
                .replace('=', "\\=");
            write!(f, "{}{op}{value}", t.field)?;
        }
        Ok(())
    }
}

/// Splits on commas not escaped by a backslash (the backslash stays in the term).
fn split_terms(s: &str) -> Vec<&str> {
    if s.is_empty() {
        return Vec::new();
    }
    let mut terms = Vec::new();
    let mut start = 0;
    let mut in_slash = false;
    for (i, c) in s.char_indices() {
        if in_slash {
            in_slash = false;
        } else if c == '\\' {
            in_slash = true;
        } else if c == ',' {
            terms.push(&s[start..i]);
            start = i + 1;
        }
    }
    terms.push(&s[start..]);
    terms
}

/// The first operator found, scanning left to right and trying `!=`, `==`, `=` at each place.
fn split_term(term: &str) -> Option<(&str, &'static str, &str)> {
    for (i, _) in term.char_indices() {
        for op in ["!=", "==", "="] {
            if term[i..].starts_with(op) {
                return Some((&term[..i], op, &term[i + op.len()..]));
            }
        }
    }
    None
}

/// Undoes `\\`, `\,` and `\=`; a bare `,` or `=`, or any other escape, is an error.
fn unescape_value(s: &str) -> Result<String, SelectorError> {
    if !s.contains(['\\', ',', '=']) {
        return Ok(s.to_string());
    }
    let mut out = String::with_capacity(s.len());
    let mut in_slash = false;
    for c in s.chars() {
        if in_slash {
            match c {
                '\\' | ',' | '=' => out.push(c),
                other => {
                    return Err(SelectorError::new(format!(
                        "invalid field selector: invalid escape sequence: \\{other}"
                    )));
                }
            }
            in_slash = false;
        } else {
            match c {
                '\\' => in_slash = true,
                // Go prints the rune with %v, that is as its number.
                ',' | '=' => {
                    return Err(SelectorError::new(format!(
                        "invalid field selector: unescaped character in value: {}",
                        c as u32
                    )));
                }
                other => out.push(other),
            }
        }
    }
    if in_slash {
        return Err(SelectorError::new(
            "invalid field selector: invalid escape sequence: \\",
        ));
    }
    Ok(out)
}

/// How a resource words a field it does not support.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Reject {
    /// Kinds with their own list: `field label not supported: spec.foo`.
    NotSupported,
    /// Every other kind: `"spec.foo" is not a known field selector: only "metadata.name", ...`.
    NotKnown,
    /// batch/v1 Jobs: `field label "spec.foo" not supported for batchv1.Job`.
    Job,
}

impl Reject {
    fn message(self, field: &str) -> String {
        match self {
            Reject::NotSupported => format!("field label not supported: {field}"),
            Reject::NotKnown => format!(
                "{} is not a known field selector: only \"metadata.name\", \"metadata.namespace\"",
                go_quote(field)
            ),
            Reject::Job => format!(
                "field label {} not supported for batchv1.Job",
                go_quote(field)
            ),
        }
    }
}

/// The fields a resource can be selected by, as kube-apiserver v1.35 registers them.
#[derive(Debug)]
pub struct SupportedFields {
    /// Fields accepted as they are.
    pub fields: &'static [&'static str],
    /// Legacy spellings accepted and rewritten (`spec.host` means `spec.nodeName` on pods).
    pub aliases: &'static [(&'static str, &'static str)],
    reject: Reject,
}

const META: &[&str] = &["metadata.name", "metadata.namespace"];

/// The selectable fields of a resource. Kinds without a list of their own (everything in
/// `apps`, ConfigMaps, CronJobs, ...) take only `metadata.name` and `metadata.namespace`.
pub fn supported_fields(resource: &ResourceInfo) -> SupportedFields {
    let own = |fields, reject| SupportedFields {
        fields,
        aliases: &[],
        reject,
    };
    match (resource.group, resource.name) {
        ("", "pods") => SupportedFields {
            fields: &[
                "metadata.name",
                "metadata.namespace",
                "spec.nodeName",
                "spec.restartPolicy",
                "spec.schedulerName",
                "spec.serviceAccountName",
                "spec.hostNetwork",
                "status.phase",
                "status.podIP",
                "status.podIPs",
                "status.nominatedNodeName",
            ],
            aliases: &[("spec.host", "spec.nodeName")],
            reject: Reject::NotSupported,
        },
        ("", "nodes") => own(
            &["metadata.name", "spec.unschedulable"],
            Reject::NotSupported,
        ),
        ("", "namespaces") => own(&["status.phase", "metadata.name"], Reject::NotSupported),
        ("", "secrets") => own(
            &["type", "metadata.namespace", "metadata.name"],
            Reject::NotSupported,
        ),
        ("", "services") => own(
            &[
                "metadata.namespace",
                "metadata.name",
                "spec.clusterIP",
                "spec.type",
            ],
            Reject::NotSupported,
        ),
        ("", "events") => own(
            &[
                "involvedObject.kind",
                "involvedObject.namespace",
                "involvedObject.name",
                "involvedObject.uid",
                "involvedObject.apiVersion",
                "involvedObject.resourceVersion",
                "involvedObject.fieldPath",
                "reason",
                "reportingComponent",
                "source",
                "type",
                "metadata.namespace",
                "metadata.name",
            ],
            Reject::NotSupported,
        ),
        ("events.k8s.io", "events") => own(
            &[
                "reason",
                "regarding.kind",
                "regarding.namespace",
                "regarding.name",
                "regarding.uid",
                "regarding.apiVersion",
                "regarding.resourceVersion",
                "regarding.fieldPath",
                "reportingController",
                "source",
                "type",
                "metadata.namespace",
                "metadata.name",
            ],
            Reject::NotSupported,
        ),
        ("batch", "jobs") => own(
            &["metadata.name", "metadata.namespace", "status.successful"],
            Reject::Job,
        ),
        _ => own(META, Reject::NotKnown),
    }
}

/// The value of a selectable field of a stored object, as kube-apiserver computes it for field
/// selectors: booleans as `true`/`false` (`false` when absent), Job's `status.successful` from
/// `status.succeeded` (`0` when absent), Events' `source` from the source component falling back
/// to the reporting controller, missing strings as `""`. `None` when the field names an object or
/// a list.
pub fn value_of(obj: &Value, field: &str) -> Option<String> {
    let text = |path: &str| scalar(lookup(obj, path));
    match field {
        "spec.hostNetwork" | "spec.unschedulable" => Some(
            lookup(obj, field)
                .and_then(Value::as_bool)
                .unwrap_or(false)
                .to_string(),
        ),
        "status.successful" => Some(
            lookup(obj, "status.succeeded")
                .and_then(Value::as_i64)
                .unwrap_or(0)
                .to_string(),
        ),
        // kube-apiserver reads the first of status.podIPs; status.podIP mirrors it.
        "status.podIP" => {
            let ip = text("status.podIP")?;
            if ip.is_empty() {
                text("status.podIPs.0.ip")
            } else {
                Some(ip)
            }
        }
        // Accepted by kube-apiserver but never filled in its field set: always empty.
        "status.podIPs" => Some(String::new()),
        "spec.host" => text("spec.nodeName"),
        "source" => {
            let events_v1 = obj
                .get("apiVersion")
                .and_then(Value::as_str)
                .is_some_and(|v| v.starts_with("events.k8s.io/"));
            let (component, fallback) = if events_v1 {
                ("deprecatedSource.component", "reportingController")
            } else {
                ("source.component", "reportingComponent")
            };
            let c = text(component)?;
            if c.is_empty() {
                text(fallback)
            } else {
                Some(c)
            }
        }
        _ => text(field),
    }
}

/// The value at a dotted path (`a.b.0.c`: numeric segments index lists).
fn lookup<'a>(obj: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(obj, |v, seg| match v {
        Value::Object(m) => m.get(seg),
        Value::Array(a) => seg.parse::<usize>().ok().and_then(|i| a.get(i)),
        _ => None,
    })
}

/// A scalar as field selectors see it; absent or `null` is `""`; objects and lists are `None`.
fn scalar(v: Option<&Value>) -> Option<String> {
    match v {
        None | Some(Value::Null) => Some(String::new()),
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Bool(b)) => Some(b.to_string()),
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn labels(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    fn sel(s: &str) -> LabelSelector {
        LabelSelector::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn err(s: &str) -> String {
        LabelSelector::parse(s).unwrap_err().message
    }

    fn res(group: &str, name: &str) -> &'static crate::api::model::ResourceInfo {
        crate::generated::resource(group, name).unwrap()
    }

    #[test]
    fn equality_forms() {
        let l = labels(json!({"app": "web", "tier": "front"}));
        for s in [
            "app=web",
            "app==web",
            "app = web",
            " app=web ",
            "tier!=back",
        ] {
            assert!(sel(s).matches(Some(&l)), "{s}");
        }
        assert!(!sel("app!=web").matches(Some(&l)));
        assert!(sel("missing!=x").matches(Some(&l)));
        assert!(!sel("app=db").matches(Some(&l)));
        assert!(sel("app=").matches(Some(&labels(json!({"app": ""})))));
    }

    #[test]
    fn set_forms() {
        let l = labels(json!({"env": "prod"}));
        assert!(sel("env in (prod, qa)").matches(Some(&l)));
        assert!(sel("env in (prod)").matches(Some(&l)));
        assert!(!sel("env notin (prod,qa)").matches(Some(&l)));
        assert!(sel("other notin (prod)").matches(Some(&l)));
        assert!(!sel("other in (prod)").matches(Some(&l)));
        // `in` and `notin` are plain words where values are expected.
        assert!(sel("x in (in,notin)").matches(Some(&labels(json!({"x": "notin"})))));
        // Empty entries stand for the empty value.
        assert_eq!(
            sel("x in (a,,b)").requirements()[0].values(),
            ["", "a", "b"]
        );
        assert_eq!(sel("x in ()").requirements()[0].values(), [""]);
        assert_eq!(sel("x in (,a)").requirements()[0].values(), ["", "a"]);
    }

    #[test]
    fn existence_forms() {
        let l = labels(json!({"app": "web"}));
        assert!(sel("app").matches(Some(&l)));
        assert!(!sel("!app").matches(Some(&l)));
        assert!(sel("!db").matches(Some(&l)));
        assert!(sel("! db").matches(Some(&l)));
        assert!(!sel("db").matches(None));
        assert!(sel("!db").matches(None));
    }

    #[test]
    fn greater_and_less_than() {
        let l = labels(json!({"gen": "5"}));
        assert!(sel("gen>3").matches(Some(&l)));
        assert!(!sel("gen<3").matches(Some(&l)));
        assert!(!sel("nope>3").matches(Some(&l)));
        assert_eq!(
            err("gen>a"),
            "unable to parse requirement: values[0]: Invalid value: \"a\": for 'Gt', 'Lt' operators, the value must be an integer"
        );
    }

    #[test]
    fn several_requirements_all_hold() {
        let l = labels(json!({"name": "demo", "owner": "helm", "status": "deployed"}));
        assert!(sel("name=demo,owner=helm").matches(Some(&l)));
        assert!(sel("status=deployed").matches(Some(&l)));
        assert!(sel("owner=helm, status in (deployed,superseded), !x").matches(Some(&l)));
        assert!(!sel("name=demo,owner=kubectl").matches(Some(&l)));
    }

    #[test]
    fn what_clients_send() {
        let svc = labels(json!({"kubernetes.io/cluster-service": "true", "app": "web"}));
        assert!(sel("kubernetes.io/cluster-service=true").matches(Some(&svc)));
        assert!(sel("app=web").matches(Some(&svc)));
        assert!(!sel("app.kubernetes.io/managed-by=Helm").matches(None));
    }

    #[test]
    fn empty_selector_matches_everything() {
        let s = sel("");
        assert!(s.is_empty());
        assert!(s.matches(None));
        assert!(sel("   ").is_empty());
        assert!(!sel("a").is_empty());
    }

    #[test]
    fn parse_errors_read_like_kube_apiserver() {
        assert_eq!(err("a=b=c"), "found '=', expected: ',' or 'end of string'");
        assert_eq!(
            err("x in ("),
            "unable to parse requirement: found '', expected: ',', ')' or identifier"
        );
        assert_eq!(
            err("x in (a"),
            "unable to parse requirement: found '', expected: ',' or ')'"
        );
        assert_eq!(
            err("x in a"),
            "unable to parse requirement: found 'a' expected: '('"
        );
        assert_eq!(
            err("a b"),
            "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt"
        );
        assert_eq!(err("a,"), "found '', expected: identifier after ','");
        assert_eq!(
            err(",a"),
            "found ',', expected: !, identifier, or 'end of string'"
        );
        assert_eq!(
            err("=a"),
            "found '=', expected: !, identifier, or 'end of string'"
        );
        assert_eq!(
            err("!"),
            "unable to parse requirement: found '', expected: identifier"
        );
        assert_eq!(err("!a=b"), "found '=', expected: ',' or 'end of string'");
        assert_eq!(
            err("a=(b"),
            "unable to parse requirement: found '(', expected: identifier"
        );
    }

    #[test]
    fn key_and_value_syntax_errors() {
        assert_eq!(
            err("-a=b"),
            "unable to parse requirement: <nil>: Invalid value: \"-a\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
        );
        assert_eq!(
            err("a=-b"),
            "unable to parse requirement: values[0][a]: Invalid value: \"-b\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
        );
        let long = "v".repeat(64);
        assert!(err(&format!("a={long}")).contains("must be no more than 63 characters"));
        assert!(err("Example.com/a=b").contains("prefix part a lowercase RFC 1123 subdomain"));
        assert!(LabelSelector::parse("example.com/a=b").is_ok());
    }

    #[test]
    fn canonical_string() {
        assert_eq!(sel("app=web").to_string(), "app=web");
        assert_eq!(
            sel("tier in (b,a), app==web,!x,y").to_string(),
            "app==web,tier in (a,b),!x,y"
        );
        assert_eq!(sel("a notin (z,y),b!=c").to_string(), "a notin (y,z),b!=c");
        assert_eq!(sel("").to_string(), "");
    }

    #[test]
    fn from_json_match_labels_and_expressions() {
        let s = LabelSelector::from_json(&json!({
            "matchLabels": {"app": "web"},
            "matchExpressions": [
                {"key": "tier", "operator": "In", "values": ["front", "back"]},
                {"key": "legacy", "operator": "DoesNotExist"},
                {"key": "env", "operator": "Exists"},
                {"key": "zone", "operator": "NotIn", "values": ["b"]}
            ]
        }))
        .unwrap();
        assert_eq!(
            s.to_string(),
            "app=web,env,!legacy,tier in (back,front),zone notin (b)"
        );
        let pod = labels(json!({"app": "web", "tier": "front", "env": "prod"}));
        assert!(s.matches(Some(&pod)));
        let other = labels(json!({"app": "web", "tier": "front"}));
        assert!(!s.matches(Some(&other)));
    }

    #[test]
    fn from_json_scale_selector_string() {
        let s = LabelSelector::from_json(&json!({"matchLabels": {"app": "web"}})).unwrap();
        assert_eq!(s.to_string(), "app=web");
    }

    #[test]
    fn from_json_null_and_empty() {
        let none = LabelSelector::from_json(&Value::Null).unwrap();
        assert!(!none.matches(None));
        assert!(!none.is_empty());
        let all = LabelSelector::from_json(&json!({})).unwrap();
        assert!(all.is_empty());
        assert!(all.matches(None));
    }

    #[test]
    fn from_json_errors() {
        let e = LabelSelector::from_json(&json!({"matchExpressions": [
            {"key": "a", "operator": "Gt", "values": ["1"]}]}))
        .unwrap_err();
        assert_eq!(e.message, r#""Gt" is not a valid label selector operator"#);
        let e = LabelSelector::from_json(&json!({"matchExpressions": [
            {"key": "a", "operator": "In", "values": []}]}))
        .unwrap_err();
        assert_eq!(
            e.message,
            "values: Invalid value: []string{}: for 'in', 'notin' operators, values set can't be empty"
        );
        let e = LabelSelector::from_json(&json!({"matchExpressions": [
            {"key": "a", "operator": "Exists", "values": ["x"]}]}))
        .unwrap_err();
        assert_eq!(
            e.message,
            r#"values: Invalid value: []string{"x"}: values set must be empty for exists and does not exist"#
        );
        let e = LabelSelector::from_json(&json!({"matchLabels": {"-a": "b"}})).unwrap_err();
        assert!(
            e.message
                .starts_with(r#"key: Invalid value: "-a": name part"#)
        );
    }

    #[test]
    fn from_labels_of_a_service() {
        let s = LabelSelector::from_labels(&labels(json!({"app": "web", "tier": "front"})));
        assert_eq!(s.to_string(), "app=web,tier=front");
        assert!(s.matches_object(
            &json!({"metadata": {"labels": {"app": "web", "tier": "front", "x": "y"}}})
        ));
        assert!(!s.matches_object(&json!({"metadata": {}})));
    }

    #[test]
    fn selector_errors_become_400() {
        let s: Status = LabelSelector::parse("a=b=c").unwrap_err().into();
        let v = s.to_json();
        assert_eq!(v["code"], 400);
        assert_eq!(v["reason"], "BadRequest");
        assert_eq!(v["message"], "found '=', expected: ',' or 'end of string'");
    }

    // --- field selectors ---

    fn fsel(s: &str) -> FieldSelector {
        FieldSelector::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn field_grammar() {
        let s = fsel("metadata.name=web");
        assert_eq!(s.requires_exact_match("metadata.name"), Some("web"));
        let s = fsel("status.phase!=Running,spec.restartPolicy==Always");
        assert_eq!(s.terms().len(), 2);
        assert!(
            s.terms()
                .iter()
                .any(|t| t.negated && t.field == "status.phase")
        );
        assert!(fsel("").is_empty());
        assert!(fsel(",,").is_empty());
        assert_eq!(fsel("a=").terms()[0].value, "");
        assert_eq!(fsel(r"a=x\,y\=z\\").terms()[0].value, r"x,y=z\");
        assert_eq!(fsel(r"a=x\,y").to_string(), r"a=x\,y");
    }

    #[test]
    fn field_grammar_errors() {
        let e = |s: &str| FieldSelector::parse(s).unwrap_err().message;
        assert_eq!(e("foo"), "invalid selector: 'foo'; can't understand 'foo'");
        assert_eq!(
            e("a=b,foo"),
            "invalid selector: 'a=b,foo'; can't understand 'foo'"
        );
        assert_eq!(
            e("a=b=c"),
            "invalid field selector: unescaped character in value: 61"
        );
        assert_eq!(
            e(r"a=b\x"),
            r"invalid field selector: invalid escape sequence: \x"
        );
        assert_eq!(
            e(r"a=b\"),
            r"invalid field selector: invalid escape sequence: \"
        );
    }

    #[test]
    fn fields_per_resource() {
        let pods = res("", "pods");
        assert!(FieldSelector::parse_for(pods, "spec.nodeName=n,status.phase=Running").is_ok());
        assert_eq!(
            FieldSelector::parse_for(pods, "spec.foo=x")
                .unwrap_err()
                .message,
            "field label not supported: spec.foo"
        );
        let s = FieldSelector::parse_for(pods, "spec.host=n").unwrap();
        assert_eq!(s.terms()[0].field, "spec.nodeName");
        let deploy = res("apps", "deployments");
        assert!(FieldSelector::parse_for(deploy, "metadata.name=web").is_ok());
        assert_eq!(
            FieldSelector::parse_for(deploy, "status.replicas=1")
                .unwrap_err()
                .message,
            r#""status.replicas" is not a known field selector: only "metadata.name", "metadata.namespace""#
        );
        let rs = res("apps", "replicasets");
        assert!(FieldSelector::parse_for(rs, "status.replicas=1").is_err());
        let jobs = res("batch", "jobs");
        assert!(FieldSelector::parse_for(jobs, "status.successful=1").is_ok());
        assert_eq!(
            FieldSelector::parse_for(jobs, "spec.x=1")
                .unwrap_err()
                .message,
            r#"field label "spec.x" not supported for batchv1.Job"#
        );
        let nodes = res("", "nodes");
        assert!(FieldSelector::parse_for(nodes, "spec.unschedulable=false").is_ok());
        assert!(FieldSelector::parse_for(nodes, "metadata.namespace=x").is_err());
        let ns = res("", "namespaces");
        assert!(FieldSelector::parse_for(ns, "status.phase=Active").is_ok());
        let secrets = res("", "secrets");
        assert!(FieldSelector::parse_for(secrets, "type=kubernetes.io/tls").is_ok());
        let svc = res("", "services");
        assert!(FieldSelector::parse_for(svc, "spec.type=NodePort").is_ok());
        let cr = res("rbac.authorization.k8s.io", "clusterroles");
        assert!(FieldSelector::parse_for(cr, "metadata.namespace=").is_ok());
        let ev2 = res("events.k8s.io", "events");
        assert!(FieldSelector::parse_for(ev2, "regarding.name=p").is_ok());
        assert!(FieldSelector::parse_for(ev2, "involvedObject.name=p").is_err());
    }

    #[test]
    fn matching_pods_by_field() {
        let pod = json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "web-1", "namespace": "default"},
            "spec": {"nodeName": "docker-node", "restartPolicy": "Always"},
            "status": {"phase": "Running", "podIPs": [{"ip": "10.244.0.5"}]}
        });
        let pods = res("", "pods");
        let ok = |s: &str| {
            FieldSelector::parse_for(pods, s)
                .unwrap()
                .matches_object(&pod)
        };
        assert!(ok("metadata.name=web-1"));
        assert!(ok("metadata.namespace=default,status.phase=Running"));
        assert!(ok("spec.nodeName=docker-node"));
        assert!(ok("spec.host=docker-node"));
        assert!(ok("spec.hostNetwork=false"));
        assert!(ok("status.podIP=10.244.0.5"));
        assert!(ok("status.phase!=Pending"));
        assert!(ok("spec.schedulerName="));
        assert!(!ok("status.podIPs=10.244.0.5"));
        assert!(!ok("metadata.name=web-2"));
    }

    #[test]
    fn matching_events_by_involved_object() {
        let ev = json!({
            "apiVersion": "v1", "kind": "Event",
            "metadata": {"name": "p.1", "namespace": "default"},
            "involvedObject": {"kind": "Pod", "namespace": "default", "name": "p", "uid": "1234-abcd"},
            "reason": "Started", "type": "Normal", "reportingComponent": "kubelet"
        });
        let s = FieldSelector::parse_for(
            res("", "events"),
            "involvedObject.namespace=default,involvedObject.uid=1234-abcd,involvedObject.name=p",
        )
        .unwrap();
        assert!(s.matches_object(&ev));
        assert_eq!(value_of(&ev, "source").as_deref(), Some("kubelet"));
        let with_source = json!({"source": {"component": "k2d"}, "reportingComponent": "kubelet"});
        assert_eq!(value_of(&with_source, "source").as_deref(), Some("k2d"));
        let v1 = json!({"apiVersion": "events.k8s.io/v1", "reportingController": "k2d",
            "regarding": {"name": "p"}});
        assert_eq!(value_of(&v1, "source").as_deref(), Some("k2d"));
        assert_eq!(value_of(&v1, "regarding.name").as_deref(), Some("p"));
    }

    #[test]
    fn value_of_defaults() {
        let empty = json!({});
        assert_eq!(
            value_of(&empty, "spec.unschedulable").as_deref(),
            Some("false")
        );
        assert_eq!(value_of(&empty, "status.successful").as_deref(), Some("0"));
        assert_eq!(value_of(&empty, "metadata.name").as_deref(), Some(""));
        let node = json!({"spec": {"unschedulable": true}});
        assert_eq!(
            value_of(&node, "spec.unschedulable").as_deref(),
            Some("true")
        );
        let job = json!({"status": {"succeeded": 3}});
        assert_eq!(value_of(&job, "status.successful").as_deref(), Some("3"));
        assert_eq!(value_of(&json!({"spec": {"a": 1}}), "spec"), None);
    }

    #[test]
    fn matches_with_a_getter() {
        let s = fsel("metadata.name=web,status.phase!=Failed");
        assert!(s.matches(|f| (f == "metadata.name").then(|| "web".to_string())));
        assert!(!s.matches(|_| None));
    }
}
