//! The bank protocol's decoders, both directions: any bytes read as a
//! stream of requests (what the service decodes) and of notices (what a
//! bank's client decodes) give frames or a protocol error, never a panic;
//! every frame decoded encodes back to bytes that decode to it again.
#![no_main]

use clearsim_service::net::protocol::{Notice, Request};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut at = 0;
    // Bounded: each frame decoded takes at least one byte.
    while let Ok(Some((request, used))) = Request::decode(&data[at..]) {
        assert!(used > 0 && at + used <= data.len());
        let mut again = Vec::new();
        request.encode(&mut again);
        let decoded = Request::decode(&again).expect("its own encoding decodes");
        assert_eq!(decoded.map(|(r, _)| r), Some(request));
        at += used;
    }
    let mut at = 0;
    while let Ok(Some((notice, used))) = Notice::decode(&data[at..]) {
        assert!(used > 0 && at + used <= data.len());
        let mut again = Vec::new();
        notice.encode(&mut again);
        let decoded = Notice::decode(&again).expect("its own encoding decodes");
        assert_eq!(decoded.map(|(n, _)| n), Some(notice));
        at += used;
    }
});
