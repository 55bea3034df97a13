use super::*;

const MAX: usize = 1 << 20;

/// A masked client frame, as a browser sends it.
fn client_frame(first: u8, payload: &[u8], mask: [u8; 4]) -> Vec<u8> {
    let mut out = vec![first];
    match payload.len() {
        n if n < 126 => out.push(0x80 | n as u8),
        n if n <= 0xFFFF => {
            out.push(0x80 | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(0x80 | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    out.extend_from_slice(&mask);
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    out
}

#[test]
fn heads_of_each_length_form_parse_and_wait_for_their_last_byte() {
    for len in [0, 1, 125, 126, 127, 65_535, 65_536, 70_000] {
        let payload = vec![7u8; len];
        let frame = client_frame(0x81, &payload, [1, 2, 3, 4]);
        let head_len = frame.len() - len;
        for cut in 0..head_len {
            assert_eq!(
                Head::parse(&frame[..cut], MAX),
                Ok(None),
                "len {len} cut {cut}"
            );
        }
        let head = Head::parse(&frame, MAX).unwrap().unwrap();
        assert_eq!(
            (head.fin, head.opcode, head.len, head.payload, head.mask),
            (true, Opcode::Text, head_len, len, [1, 2, 3, 4])
        );
    }
}

#[test]
fn unmasking_restores_the_payload_at_every_length_and_alignment() {
    let mask = [0xA5, 0x01, 0xFF, 0x3C];
    for len in 0..40 {
        let payload: Vec<u8> = (0..len as u8).collect();
        let frame = client_frame(0x82, &payload, mask);
        let head = Head::parse(&frame, MAX).unwrap().unwrap();
        let mut body = frame[head.len..].to_vec();
        unmask(&mut body, head.mask);
        assert_eq!(body, payload, "len {len}");
    }
}

#[test]
fn what_no_client_may_send_is_refused_with_1002() {
    let refused = |bytes: &[u8]| Head::parse(bytes, MAX).unwrap_err().code;
    // Reserved bits, each of them.
    for rsv in [0x40, 0x20, 0x10] {
        assert_eq!(refused(&client_frame(0x81 | rsv, b"x", [0; 4])), 1002);
    }
    // Reserved opcodes.
    for op in [0x3, 0x7, 0xB, 0xF] {
        assert_eq!(refused(&client_frame(0x80 | op, b"", [0; 4])), 1002);
    }
    // An unmasked frame.
    assert_eq!(refused(&[0x81, 0x01, b'x']), 1002);
    // A fragmented control frame, and one of 126 bytes (125 passes).
    assert_eq!(refused(&client_frame(0x09, b"", [0; 4])), 1002);
    assert!(Head::parse(&client_frame(0x89, &[0; 125], [0; 4]), MAX).is_ok());
    assert_eq!(refused(&client_frame(0x89, &[0; 126], [0; 4])), 1002);
    // A 64-bit length with its top bit set.
    let mut huge = vec![0x82, 0x80 | 127];
    huge.extend_from_slice(&(1u64 << 63).to_be_bytes());
    huge.extend_from_slice(&[0; 4]);
    assert_eq!(refused(&huge), 1002);
}

#[test]
fn a_payload_over_the_limit_is_refused_with_1009_from_its_head_alone() {
    let head_only = |len: usize| {
        let mut frame = client_frame(0x81, &vec![0; len], [0; 4]);
        frame.truncate(frame.len() - len);
        Head::parse(&frame, 1000)
    };
    assert!(head_only(999).unwrap().is_some());
    assert!(head_only(1000).unwrap().is_some());
    assert_eq!(head_only(1001).unwrap_err().code, 1009);
}

#[test]
fn heads_written_by_the_server_are_unmasked_and_sized_to_fit() {
    for (len, expect) in [
        (0, vec![0x81, 0]),
        (125, vec![0x81, 125]),
        (126, vec![0x81, 126, 0, 126]),
        (65_535, vec![0x81, 126, 0xFF, 0xFF]),
        (65_536, vec![0x81, 127, 0, 0, 0, 0, 0, 1, 0, 0]),
    ] {
        let mut out = Vec::new();
        write_head(&mut out, Opcode::Text, len);
        assert_eq!(out, expect, "len {len}");
    }
    let mut out = Vec::new();
    write_head(&mut out, Opcode::Close, 2);
    assert_eq!(out, [0x88, 2]);
}

#[test]
fn close_payloads() {
    assert_eq!(parse_close(b""), Ok(None));
    assert_eq!(parse_close(&[0x03]).unwrap_err().code, 1002);
    assert_eq!(
        parse_close(&[0x03, 0xE8, b'b', b'y', b'e']),
        Ok(Some((1000, "bye".to_owned())))
    );
    for code in [1000u16, 1001, 1003, 1007, 1011, 1014, 3000, 4999] {
        assert!(parse_close(&code.to_be_bytes()).is_ok(), "{code}");
    }
    for code in [0u16, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000] {
        assert_eq!(
            parse_close(&code.to_be_bytes()).unwrap_err().code,
            1002,
            "{code}"
        );
    }
    assert_eq!(parse_close(&[0x03, 0xE8, 0xFF]).unwrap_err().code, 1007);
}
