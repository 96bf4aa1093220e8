//! Splits a `.mjfilter.py` source into logical lines of tokens (Python's tokenizer rules:
//! indentation, bracket continuation, string prefixes and escapes).

use super::*;

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Tok {
    Name(Rc<str>),
    Int(i128),
    Float(f64),
    Str(Rc<str>),
    Op(&'static str),
}

impl Tok {
    pub(super) fn describe(&self) -> String {
        match self {
            Tok::Name(n) => format!("'{n}'"),
            Tok::Int(i) => format!("'{i}'"),
            Tok::Float(f) => format!("'{}'", float_repr(*f)),
            Tok::Str(_) => "a string literal".to_string(),
            Tok::Op(o) => format!("'{o}'"),
        }
    }
}

#[derive(Debug, Clone)]
pub(super) struct Token {
    pub(super) tok: Tok,
    pub(super) line: u32,
}

/// A logical line: its indentation, first physical line and tokens.
#[derive(Debug)]
pub(super) struct Line {
    pub(super) indent: u32,
    pub(super) line: u32,
    pub(super) toks: Vec<Token>,
}

pub(super) const OPS: &[&str] = &[
    "**=", "//=", ">>=", "<<=", "...", "->", ":=", "==", "!=", "<=", ">=", "**", "//", "<<", ">>", "+=", "-=", "*=", "/=", "%=", "&=",
    "|=", "^=", "@=", "(", ")", "[", "]", "{", "}", ",", ":", ".", ";", "@", "=", "+", "-", "*", "/", "%", "&", "|", "^", "~", "<", ">",
];

pub(super) struct Lexer {
    pub(super) c: Vec<char>,
    pub(super) i: usize,
    pub(super) line: u32,
    pub(super) brackets: Vec<(char, u32)>,
    pub(super) lines: Vec<Line>,
    pub(super) cur: Option<Line>,
}

pub(super) fn tokenize(src: &str) -> R<Vec<Line>> {
    let src = src.strip_prefix('\u{feff}').unwrap_or(src);
    let mut lx = Lexer { c: src.chars().collect(), i: 0, line: 0, brackets: Vec::new(), lines: Vec::new(), cur: None };
    lx.run()?;
    Ok(lx.lines)
}

pub(super) fn is_ident_start(c: char) -> bool {
    c == '_' || c.is_alphabetic()
}

pub(super) fn is_ident_char(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

impl Lexer {
    pub(super) fn at(&self, k: usize) -> Option<char> {
        self.c.get(self.i + k).copied()
    }

    /// Length of the line break at the cursor (`\n`, `\r\n` or a lone `\r`), or 0.
    pub(super) fn newline_len(&self) -> usize {
        match self.at(0) {
            Some('\n') => 1,
            Some('\r') if self.at(1) == Some('\n') => 2,
            Some('\r') => 1,
            _ => 0,
        }
    }

    pub(super) fn push(&mut self, tok: Tok, line: u32) {
        let cur = self.cur.get_or_insert_with(|| Line { indent: 0, line, toks: Vec::new() });
        cur.toks.push(Token { tok, line });
    }

    pub(super) fn end_line(&mut self) {
        if let Some(l) = self.cur.take() {
            if !l.toks.is_empty() {
                self.lines.push(l);
            }
        }
    }

    pub(super) fn skip_comment(&mut self) {
        while let Some(ch) = self.at(0) {
            if ch == '\n' || ch == '\r' {
                break;
            }
            self.i += 1;
        }
    }

    pub(super) fn run(&mut self) -> R<()> {
        let mut at_start = true;
        loop {
            if at_start {
                let mut col = 0u32;
                while let Some(ch) = self.at(0) {
                    match ch {
                        ' ' => col = col.saturating_add(1),
                        '\t' => col = (col / 8).saturating_add(1).saturating_mul(8),
                        '\x0c' => col = 0,
                        _ => break,
                    }
                    self.i += 1;
                }
                match self.at(0) {
                    None => break,
                    Some('#') => {
                        self.skip_comment();
                        continue;
                    }
                    Some('\n') | Some('\r') => {
                        self.i += self.newline_len();
                        self.line += 1;
                        continue;
                    }
                    Some(_) => {
                        self.cur = Some(Line { indent: col, line: self.line, toks: Vec::new() });
                        at_start = false;
                    }
                }
            }
            let Some(ch) = self.at(0) else { break };
            match ch {
                '\n' | '\r' => {
                    self.i += self.newline_len();
                    self.line += 1;
                    if self.brackets.is_empty() {
                        self.end_line();
                        at_start = true;
                    }
                }
                ' ' | '\t' | '\x0c' => self.i += 1,
                '#' => self.skip_comment(),
                '\\' => match self.at(1) {
                    Some('\n') | Some('\r') => {
                        self.i += 1;
                        self.i += self.newline_len();
                        self.line += 1;
                    }
                    None => return fail(self.line, "SyntaxError: unexpected EOF while parsing"),
                    Some(_) => return fail(self.line, "SyntaxError: unexpected character after line continuation character"),
                },
                '"' | '\'' => self.lex_string("")?,
                c if c.is_ascii_digit() || (c == '.' && self.at(1).is_some_and(|d| d.is_ascii_digit())) => self.lex_number()?,
                c if is_ident_start(c) => self.lex_name()?,
                _ => self.lex_op()?,
            }
        }
        if let Some(&(open, line)) = self.brackets.last() {
            return fail(line, format!("SyntaxError: '{open}' was never closed"));
        }
        self.end_line();
        Ok(())
    }

    pub(super) fn lex_name(&mut self) -> R<()> {
        let start = self.i;
        while self.at(0).is_some_and(is_ident_char) {
            self.i += 1;
        }
        let name: String = self.c[start..self.i].iter().collect();
        if matches!(self.at(0), Some('"') | Some('\'')) {
            let lower = name.to_ascii_lowercase();
            if matches!(lower.as_str(), "r" | "u" | "f" | "b" | "br" | "rb" | "fr" | "rf") {
                return self.lex_string(&lower);
            }
        }
        self.push(Tok::Name(Rc::from(name)), self.line);
        Ok(())
    }

    pub(super) fn lex_op(&mut self) -> R<()> {
        let line = self.line;
        for op in OPS {
            let matched = op.chars().enumerate().all(|(k, oc)| self.at(k) == Some(oc));
            if !matched {
                continue;
            }
            match *op {
                "(" | "[" | "{" => {
                    if self.brackets.len() >= MAX_BRACKETS {
                        return fail(line, "SyntaxError: too many nested parentheses");
                    }
                    self.brackets.push((op.chars().next().unwrap_or('('), line));
                }
                ")" | "]" | "}" => {
                    let close = op.chars().next().unwrap_or(')');
                    let want = match close {
                        ')' => '(',
                        ']' => '[',
                        _ => '{',
                    };
                    match self.brackets.pop() {
                        None => return fail(line, format!("SyntaxError: unmatched '{close}'")),
                        Some((open, _)) if open != want => {
                            return fail(
                                line,
                                format!("SyntaxError: closing parenthesis '{close}' does not match opening parenthesis '{open}'"),
                            )
                        }
                        Some(_) => {}
                    }
                }
                _ => {}
            }
            self.i += op.len();
            self.push(Tok::Op(op), line);
            return Ok(());
        }
        let ch = self.at(0).unwrap_or(' ');
        if ch.is_ascii() {
            fail(line, format!("SyntaxError: invalid syntax ('{}')", ch.escape_default()))
        } else {
            fail(line, format!("SyntaxError: invalid character '{ch}' (U+{:04X})", ch as u32))
        }
    }

    /// Digits of `radix`, with single underscores allowed between digits.
    pub(super) fn digits(&mut self, radix: u32, out: &mut String) -> R<()> {
        while let Some(ch) = self.at(0) {
            if ch.is_digit(radix) {
                out.push(ch);
                self.i += 1;
            } else if ch == '_' && !out.is_empty() {
                if self.at(1).is_some_and(|d| d.is_digit(radix)) {
                    self.i += 1;
                } else {
                    return fail(self.line, "SyntaxError: invalid decimal literal");
                }
            } else {
                break;
            }
        }
        Ok(())
    }

    pub(super) fn lex_number(&mut self) -> R<()> {
        let line = self.line;
        let radix = match (self.at(0), self.at(1)) {
            (Some('0'), Some('x' | 'X')) => 16,
            (Some('0'), Some('o' | 'O')) => 8,
            (Some('0'), Some('b' | 'B')) => 2,
            _ => 10,
        };
        let tok = if radix != 10 {
            self.i += 2;
            if self.at(0) == Some('_') {
                self.i += 1;
            }
            let mut digits = String::new();
            self.digits(radix, &mut digits)?;
            if digits.is_empty() {
                return fail(line, "SyntaxError: invalid number literal");
            }
            match i128::from_str_radix(&digits, radix) {
                Ok(v) => Tok::Int(v),
                Err(_) => return fail(line, "unsupported: integer literal too large"),
            }
        } else {
            let mut text = String::new();
            self.digits(10, &mut text)?;
            let int_part = text.clone();
            let mut is_float = false;
            if self.at(0) == Some('.') {
                is_float = true;
                self.i += 1;
                text.push('.');
                let mut frac = String::new();
                self.digits(10, &mut frac)?;
                text.push_str(&frac);
            }
            if matches!(self.at(0), Some('e' | 'E')) {
                let sign = matches!(self.at(1), Some('+' | '-'));
                let d = if sign { self.at(2) } else { self.at(1) };
                if d.is_some_and(|d| d.is_ascii_digit()) {
                    is_float = true;
                    text.push('e');
                    if sign {
                        text.push(self.at(1).unwrap_or('+'));
                        self.i += 1;
                    }
                    self.i += 1;
                    let mut exp = String::new();
                    self.digits(10, &mut exp)?;
                    text.push_str(&exp);
                }
            }
            if matches!(self.at(0), Some('j' | 'J')) {
                return fail(line, "unsupported: complex number literal");
            }
            if is_float {
                match text.parse::<f64>() {
                    Ok(f) => Tok::Float(f),
                    Err(_) => return fail(line, "SyntaxError: invalid decimal literal"),
                }
            } else {
                if int_part.len() > 1 && int_part.starts_with('0') && int_part.chars().any(|c| c != '0') {
                    return fail(line, "SyntaxError: leading zeros in decimal integer literals are not permitted");
                }
                match int_part.parse::<i128>() {
                    Ok(v) => Tok::Int(v),
                    Err(_) => return fail(line, "unsupported: integer literal too large"),
                }
            }
        };
        if self.at(0).is_some_and(is_ident_char) {
            return fail(line, "SyntaxError: invalid decimal literal");
        }
        self.push(tok, line);
        Ok(())
    }

    pub(super) fn hex_escape(&mut self, count: usize, line: u32) -> R<char> {
        let mut v: u32 = 0;
        for _ in 0..count {
            match self.at(0).and_then(|c| c.to_digit(16)) {
                Some(d) => {
                    v = v * 16 + d;
                    self.i += 1;
                }
                None => return fail(line, "SyntaxError: truncated escape sequence in a string literal"),
            }
        }
        match char::from_u32(v) {
            Some(c) => Ok(c),
            None if v > 0x10FFFF => fail(line, "SyntaxError: illegal Unicode character in a string literal"),
            None => fail(line, "unsupported: lone surrogate in a string literal"),
        }
    }

    /// Lexes a string literal; the cursor is on the opening quote, `prefix` is lowercase.
    pub(super) fn lex_string(&mut self, prefix: &str) -> R<()> {
        let raw = prefix.contains('r');
        let bytes = prefix.contains('b');
        let fstr = prefix.contains('f');
        let start_line = self.line;
        let q = self.at(0).unwrap_or('"');
        let triple = self.at(1) == Some(q) && self.at(2) == Some(q);
        self.i += if triple { 3 } else { 1 };
        let unterminated =
            if triple { "SyntaxError: unterminated triple-quoted string literal" } else { "SyntaxError: unterminated string literal" };
        let mut s = String::new();
        loop {
            let Some(ch) = self.at(0) else { return fail(start_line, unterminated) };
            if ch == q {
                if !triple {
                    self.i += 1;
                    break;
                }
                if self.at(1) == Some(q) && self.at(2) == Some(q) {
                    self.i += 3;
                    break;
                }
                s.push(q);
                self.i += 1;
                continue;
            }
            if ch == '\n' || ch == '\r' {
                if !triple {
                    return fail(start_line, unterminated);
                }
                self.i += self.newline_len();
                self.line += 1;
                s.push('\n');
                continue;
            }
            if ch != '\\' {
                s.push(ch);
                self.i += 1;
                continue;
            }
            let Some(nx) = self.at(1) else { return fail(start_line, unterminated) };
            if nx == '\n' || nx == '\r' {
                self.i += 1;
                self.i += self.newline_len();
                self.line += 1;
                if raw {
                    s.push_str("\\\n");
                }
                continue;
            }
            self.i += 2;
            if raw {
                s.push('\\');
                s.push(nx);
                continue;
            }
            let line = self.line;
            match nx {
                '\\' | '\'' | '"' => s.push(nx),
                'a' => s.push('\x07'),
                'b' => s.push('\x08'),
                'f' => s.push('\x0c'),
                'n' => s.push('\n'),
                'r' => s.push('\r'),
                't' => s.push('\t'),
                'v' => s.push('\x0b'),
                '0'..='7' => {
                    let mut v = nx.to_digit(8).unwrap_or(0);
                    for _ in 0..2 {
                        match self.at(0).and_then(|c| c.to_digit(8)) {
                            Some(d) => {
                                v = v * 8 + d;
                                self.i += 1;
                            }
                            None => break,
                        }
                    }
                    s.push(char::from_u32(v).unwrap_or('\u{fffd}'));
                }
                'x' => s.push(self.hex_escape(2, line)?),
                'u' if !bytes => s.push(self.hex_escape(4, line)?),
                'U' if !bytes => s.push(self.hex_escape(8, line)?),
                'N' if !bytes => return fail(line, "unsupported: \\N{...} escape in a string literal"),
                _ => {
                    s.push('\\');
                    s.push(nx);
                }
            }
        }
        if bytes {
            return fail(start_line, "unsupported: bytes literal");
        }
        if fstr {
            let mut out = String::with_capacity(s.len());
            let mut it = s.chars().peekable();
            while let Some(c) = it.next() {
                if (c == '{' || c == '}') && it.peek() == Some(&c) {
                    it.next();
                    out.push(c);
                } else if c == '{' || c == '}' {
                    return fail(start_line, "unsupported: f-string with replacement fields");
                } else {
                    out.push(c);
                }
            }
            s = out;
        }
        self.push(Tok::Str(Rc::from(s)), start_line);
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------
