//! `--answer METHOD=JSON`: what the client answers when the server calls it back during a
//! call. The answered methods are served by a jsonrpsee module built at run time; the server's
//! calls of any other method get -32601 (Method not found) from the engine.

use serde_json::value::RawValue;
use volley_core::jsonrpsee::RpcModule;
use volley_core::{ErrorObject, Service};

use crate::failure::Failure;
use crate::{output, params};

/// One `--answer`: the method and the result it answers with.
#[derive(Debug, Clone)]
pub(crate) struct Answer {
    method: String,
    result: Box<RawValue>,
}

impl Answer {
    /// The method answered.
    pub(crate) fn method(&self) -> &str {
        &self.method
    }

    /// The result it is answered with.
    pub(crate) fn result(&self) -> &RawValue {
        &self.result
    }
}

/// Reads `METHOD=JSON`; the result is read as JSON when it is JSON, else taken as a string.
pub(crate) fn parse(text: &str) -> Result<Answer, String> {
    let (method, result) = text
        .split_once('=')
        .filter(|(m, _)| !m.is_empty())
        .ok_or_else(|| format!("expected METHOD=JSON, got `{text}`"))?;
    let result = RawValue::from_string(params::value_text(result)).map_err(|e| e.to_string())?;
    Ok(Answer {
        method: method.to_owned(),
        result,
    })
}

/// The service that answers `answers`, or `None` when there are none.
pub(crate) fn service(answers: &[Answer]) -> Result<Option<Service>, Failure> {
    if answers.is_empty() {
        return Ok(None);
    }
    let mut module = RpcModule::new(());
    for answer in answers {
        // jsonrpsee keeps method names for the life of the module: this one lives as long as
        // the process.
        let name: &'static str = Box::leak(answer.method.clone().into_boxed_str());
        let result = answer.result.clone();
        module
            .register_method(name, move |params, _, _| {
                let params = params.as_str().unwrap_or("");
                output::progress(&format!(
                    "the server calls {name}({params}): answering {result}"
                ));
                Ok::<_, ErrorObject>(result.clone())
            })
            .map_err(|_| Failure::Usage(format!("--answer {name} is given twice")))?;
    }
    Ok(Some(Service::from(module)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_a_method_and_a_result() {
        let answer = parse("confirm=true").expect("an answer");
        assert_eq!(
            (answer.method.as_str(), answer.result.get()),
            ("confirm", "true")
        );
        let answer = parse("ui.name=Ada Lovelace").expect("an answer");
        assert_eq!(answer.result.get(), "\"Ada Lovelace\"");
        assert_eq!(
            parse("x={\"a\": [1]}").expect("an answer").result.get(),
            "{\"a\": [1]}"
        );
        assert!(parse("=1").is_err());
        assert!(parse("confirm").is_err());
    }

    #[test]
    fn each_method_is_answered_once() {
        let answers = [parse("a=1").unwrap(), parse("b=2").unwrap()];
        let served = service(&answers).expect("a service").expect("some");
        assert_eq!(served.method_names(), ["a", "b"]);
        assert!(service(&[]).expect("nothing").is_none());
        let twice = [parse("a=1").unwrap(), parse("a=2").unwrap()];
        let error = service(&twice).expect_err("a duplicate");
        assert_eq!(error.to_string(), "--answer a is given twice");
    }
}
