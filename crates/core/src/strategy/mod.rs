//! Settlement strategies: how a channel turns arrivals into settlements,
//! and **the catalog** of them.
//!
//! Every strategy has one table, a [`StrategyDef`], beside its algorithm:
//! its name, the options it takes ([`Opt`], each with its TOML, flag and
//! compact forms in [`options`]), whether it is gross, whether it decides
//! by liquidity checks, its description and how its channel is built.
//! Configs, `replay`'s flags, the compact form of `compare`, the service's
//! journal and every report read strategies through this catalog only.
//! A channel as configured is a [`ChannelSpec`]: a table and its typed
//! options. Gross options compose as data (queue discipline, sender
//! limits, balanced release, gridlock runs): `rtgs+bypass+limits` is one
//! spec like any other.
//!
//! The built-in algorithms implement the small [`Strategy`] trait and are
//! held in the [`Channel`] enum, so that dispatch on the per-payment path is
//! a jump, not a pointer chase. A strategy from outside the core
//! implements [`DynStrategy`] and [`register`]s its table; it then appears
//! in every front end like the built-in ones (`tests/catalog.rs` adds one).
//! The rules are those of `docs/semantics.md`; see `docs/strategies.md`.

mod balanced;
mod bilateral;
mod bypass;
mod dns;
mod limits;
mod lists;
pub mod options;
mod parking;
mod pending;
mod prefix;
mod rtgs;

use crate::ParseError;
use std::sync::{PoisonError, RwLock};

pub use bilateral::Bilateral;
pub use dns::{DENSE_UNWIND_MAX_PARTICIPANTS, Dns};
pub use limits::{SenderLimit, SenderLimits};
pub use options::{Opt, OptionForms, Options, StrategyError};
pub use rtgs::{QueueRule, Rtgs};

use crate::ledger::{Ctx, Ledger, Payment, Sink};
use crate::time::SimTime;

/// What a channel does at each step of an instant.
pub trait Strategy {
    /// Step 1: one arrival (gross strategies also release right away).
    fn arrive<S: Sink>(&mut self, cx: &mut Ctx<S>, payment: Payment);
    /// The time of this channel's next scheduled event, if any.
    fn next_event(&self) -> Option<SimTime>;
    /// Step 2: runs the event due at `cx.now` and schedules the next one.
    fn run_event<S: Sink>(&mut self, cx: &mut Ctx<S>);
    /// Settles whatever has become settleable without an event (gross only).
    fn release<S: Sink>(&mut self, _cx: &mut Ctx<S>) {}
    /// Day end: reports every held payment as unsettled and drops it.
    fn close<S: Sink>(&mut self, cx: &mut Ctx<S>);
    fn is_gross(&self) -> bool {
        false
    }
    /// Pre-allocates room for `payments` held at once (a hint).
    fn reserve(&mut self, _payments: usize) {}
    /// Whether `payment`, arriving now, would settle at once rather than be
    /// held (deferred channels hold everything).
    fn settles_on_arrival(&self, _ledger: &Ledger, _payment: &Payment) -> bool {
        false
    }
}

/// [`Strategy`] for an algorithm outside the core: the same steps, with the
/// sink behind a pointer (a registered strategy cannot be generic over it).
pub trait DynStrategy: Send {
    fn arrive(&mut self, cx: &mut Ctx<'_, dyn Sink + '_>, payment: Payment);
    fn next_event(&self) -> Option<SimTime>;
    fn run_event(&mut self, cx: &mut Ctx<'_, dyn Sink + '_>);
    fn release(&mut self, _cx: &mut Ctx<'_, dyn Sink + '_>) {}
    fn close(&mut self, cx: &mut Ctx<'_, dyn Sink + '_>);
    /// As its table says ([`StrategyDef::gross`]).
    fn is_gross(&self) -> bool {
        false
    }
    fn settles_on_arrival(&self, _ledger: &Ledger, _payment: &Payment) -> bool {
        false
    }
}

/// How a `dns` cycle removes payments when some participant cannot cover its
/// net debit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Unwind {
    /// Remove every payment sent or received by each short participant.
    #[default]
    Participant,
    /// Remove the last (in queue order) payment sent by each short participant.
    Latest,
}

impl Unwind {
    /// As every form writes it.
    pub fn word(self) -> &'static str {
        match self {
            Unwind::Participant => "participant",
            Unwind::Latest => "latest",
        }
    }
}

// ------------------------------------------------------------- the catalog

/// What follows the colon of a strategy's compact form.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tail {
    /// The interval of its periodic runs; `Some(word)`: only after
    /// `+word` (`rtgs+gridlock:5m`), `None`: directly (`chips:1m`).
    Interval(Option<&'static str>),
    /// Its cycle times (`dns:10:00,15:00`, `bilateral:hourly`).
    Cycles,
    /// Nothing.
    Nothing,
}

/// One strategy's table: everything a front end knows of it.
pub struct StrategyDef {
    /// The base of its name (`rtgs`), as every form writes it.
    pub name: &'static str,
    /// Its names with the options that are part of them, for listings.
    pub spellings: &'static [&'static str],
    /// One line: what it does.
    pub summary: &'static str,
    /// Settles gross (at most one such channel per design).
    pub gross: bool,
    /// Reads a participant's balance only through the ledger's liquidity
    /// checks ([`Ledger::note_margin`]), so that a run is the same, step for
    /// step, under any opening its margins allow.
    pub decides_by_checks: bool,
    /// The options it takes; any other is refused, naming it.
    pub options: &'static [Opt],
    /// What its compact form writes after the colon.
    pub tail: Tail,
    /// The complete options from those written: defaults filled in, values
    /// checked.
    pub complete: fn(Options, SimTime) -> Result<Options, StrategyError>,
    /// One line of its options, for reports.
    pub describe: fn(&Options) -> String,
    /// Its channel over the ledger's accounts (balances now are the
    /// opening ones).
    pub channel: fn(&Options, &Ledger, SimTime) -> Result<Channel, StrategyError>,
}

impl std::fmt::Debug for StrategyDef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

/// The strategies of the core.
pub static BUILT_IN: [&StrategyDef; 4] = [
    &rtgs::RTGS,
    &balanced::CHIPS,
    &dns::DNS,
    &bilateral::BILATERAL,
];

/// Strategies registered from outside the core, after the built-in ones.
static REGISTERED: RwLock<Vec<&'static StrategyDef>> = RwLock::new(Vec::new());

/// Adds a strategy to the catalog; its name must be new.
pub fn register(def: &'static StrategyDef) -> Result<(), StrategyError> {
    let mut registered = REGISTERED.write().unwrap_or_else(PoisonError::into_inner);
    if BUILT_IN
        .iter()
        .chain(registered.iter())
        .any(|d| d.name == def.name)
    {
        return Err(StrategyError::new(
            None,
            format!("a strategy named `{}` is in the catalog already", def.name),
        ));
    }
    registered.push(def);
    Ok(())
}

/// Every strategy of the catalog: the built-in ones, then those registered.
pub fn catalog() -> Vec<&'static StrategyDef> {
    let registered = REGISTERED.read().unwrap_or_else(PoisonError::into_inner);
    BUILT_IN
        .iter()
        .copied()
        .chain(registered.iter().copied())
        .collect()
}

/// The strategy whose name's base is `base`.
pub fn lookup(base: &str) -> Option<&'static StrategyDef> {
    catalog().into_iter().find(|d| d.name == base)
}

/// Earlier spellings, and the one to write now.
const OLD_SPELLINGS: [(&str, &str); 3] = [
    ("rtgs-bypass", "rtgs+bypass"),
    ("rtgs-offset", "rtgs+offset"),
    ("rtgs-limits", "rtgs+limits"),
];

/// A strategy's name as written, split into its table and the options its
/// `+` parts set.
fn named(name: &str) -> Result<(&'static StrategyDef, Options), StrategyError> {
    if let Some((_, now)) = OLD_SPELLINGS.iter().find(|(old, _)| *old == name) {
        return Err(StrategyError::new(
            None,
            format!("`{name}` is now written `{now}`"),
        ));
    }
    let unknown = || {
        let known: Vec<&str> = catalog()
            .iter()
            .flat_map(|d| d.spellings.iter().copied())
            .collect();
        StrategyError::new(
            None,
            format!("`{name}` is not a strategy ({})", known.join(", ")),
        )
    };
    let (base, parts) = options::split_name(name);
    let def = lookup(base).ok_or_else(unknown)?;
    let mut written = Options::default();
    for part in parts {
        match options::set_name_part(&mut written, part) {
            Ok(true) => {}
            Ok(false) => return Err(unknown()),
            Err(message) => return Err(StrategyError::new(Some(Opt::Queue), message)),
        }
    }
    Ok((def, written))
}

/// Builds a channel's spec from a strategy's name and its options as a
/// config or flags give them, refusing what the strategy does not take.
/// Sender limits (`+limits`) come empty: the caller fills them from its
/// `[[limit]]` entries.
pub fn build(name: &str, given: Options, day_end: SimTime) -> Result<ChannelSpec, StrategyError> {
    let (def, from_name) = named(name)?;
    let mut options = given;
    options.queue = options.queue.or(from_name.queue);
    options.limits = options.limits.or(from_name.limits);
    options.unwind = options.unwind.or(from_name.unwind);
    ChannelSpec::of(def, options, day_end)
}

/// A strategy as written in the compact form (`rtgs+gridlock:5m`) and as
/// built.
#[derive(Clone, Debug, PartialEq)]
pub struct StrategyChoice {
    pub label: String,
    pub spec: ChannelSpec,
}

/// Parses the compact form: a name, `+modifiers`, then after a colon what
/// the strategy's [`Tail`] says (cycles, or an interval). Modifiers: the
/// parts of names (`+bypass`, `+offset`, `+limits`, `+latest`), `+gridlock`
/// (rtgs: the colon gives the interval), `+fund=AMOUNT` (dns, with its
/// unit, e.g. `5e7yuan`) and `+max=PCT` (chips). No cycle list means one
/// cycle at day end.
pub fn parse_strategy(text: &str, day_end: SimTime) -> Result<StrategyChoice, ParseError> {
    let text = text.trim();
    let bad = |e: &dyn std::fmt::Display| ParseError(format!("`{text}`: {e}"));
    let (head, tail) = match text.split_once(':') {
        Some((head, rest)) => (head, Some(rest)),
        None => (text, None),
    };
    let (base, parts) = options::split_name(head);
    let Some(def) = lookup(base) else {
        return Err(bad(&named(head)
            .err()
            .map_or_else(String::new, |e| e.message)));
    };
    let mut options = Options::default();
    let mut marked = false;
    for part in parts {
        let not_mine = || bad(&format!("`+{part}` is not a modifier of {base}"));
        if matches!(def.tail, Tail::Interval(Some(word)) if word == part) {
            marked = true;
            continue;
        }
        let before = options.given();
        let known = options::set_name_part(&mut options, part).map_err(|e| bad(&e))?
            || options::set_compact_part(&mut options, part).map_err(|e| bad(&e))?;
        let new: Vec<Opt> = options
            .given()
            .into_iter()
            .filter(|o| !before.contains(o))
            .collect();
        if !known || new.iter().any(|o| !def.options.contains(o)) {
            return Err(not_mine());
        }
    }
    match (tail, def.tail) {
        (None, Tail::Interval(Some(_))) if marked => {
            return Err(bad(&format!("give the interval, e.g. {head}:5m")));
        }
        (Some(every), Tail::Interval(marker)) => {
            if let Some(word) = marker.filter(|_| !marked) {
                return Err(bad(&format!(
                    "`:{every}` needs +{word} (e.g. {head}+{word}:{every})"
                )));
            }
            let ms = crate::time::parse_duration_ms(every)
                .ok_or_else(|| bad(&format!("`{every}` is not a duration")))?;
            options.gridlock_every_ms = Some(ms);
        }
        (Some(list), Tail::Cycles) => {
            options.cycles = Some(options::parse_cycles(list, day_end).map_err(|e| bad(&e))?);
        }
        (Some(rest), Tail::Nothing) => {
            return Err(bad(&format!(
                "{base} takes nothing after a colon (`:{rest}`)"
            )));
        }
        (None, _) => {}
    }
    let spec = ChannelSpec::of(def, options, day_end).map_err(|e| bad(&e.message))?;
    Ok(StrategyChoice {
        label: text.to_string(),
        spec,
    })
}

/// The strategies of the catalog that take `opt`, as a phrase.
fn takers(opt: Opt) -> String {
    let names: Vec<&str> = catalog()
        .iter()
        .filter(|d| d.options.contains(&opt))
        .map(|d| d.name)
        .collect();
    match names.split_last() {
        None => "none".into(),
        Some((last, [])) => (*last).to_string(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
    }
}

// ------------------------------------------------------------- the specs

/// A channel's strategy and its options, as configured.
#[derive(Clone)]
pub struct ChannelSpec {
    def: &'static StrategyDef,
    options: Options,
}

impl PartialEq for ChannelSpec {
    /// Names are unique in the catalog ([`register`] refuses a taken one).
    fn eq(&self, other: &Self) -> bool {
        self.def.name == other.def.name && self.options == other.options
    }
}

impl Eq for ChannelSpec {}

impl std::fmt::Debug for ChannelSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChannelSpec")
            .field("strategy", &self.def.name)
            .field("options", &self.options)
            .finish()
    }
}

impl ChannelSpec {
    /// `def` with `written` options: each one it takes, checked, and its
    /// defaults filled in.
    pub fn of(
        def: &'static StrategyDef,
        written: Options,
        day_end: SimTime,
    ) -> Result<ChannelSpec, StrategyError> {
        if let Some(&opt) = written.given().iter().find(|o| !def.options.contains(o)) {
            return Err(StrategyError::new(
                Some(opt),
                format!(
                    "{} takes no {} (only {})",
                    def.name,
                    opt.word(),
                    takers(opt)
                ),
            ));
        }
        let options = (def.complete)(written, day_end)?;
        Ok(ChannelSpec { def, options })
    }

    /// Gross settlement with strict FIFO queues: the contract's `rtgs`.
    pub fn rtgs(gridlock_every_ms: Option<u32>) -> ChannelSpec {
        ChannelSpec::gross(QueueRule::Fifo, gridlock_every_ms)
    }

    /// Gross settlement with the queue discipline `queue`.
    pub fn gross(queue: QueueRule, gridlock_every_ms: Option<u32>) -> ChannelSpec {
        ChannelSpec {
            def: &rtgs::RTGS,
            options: Options {
                queue: (queue != QueueRule::Fifo).then_some(queue),
                gridlock_every_ms,
                ..Options::default()
            },
        }
    }

    /// Gross settlement bounded by sender limits.
    pub fn rtgs_limits(gridlock_every_ms: Option<u32>, limits: SenderLimits) -> ChannelSpec {
        ChannelSpec::rtgs(gridlock_every_ms).with_limits(limits)
    }

    /// The same gross channel bounded by sender limits.
    pub fn with_limits(mut self, limits: SenderLimits) -> ChannelSpec {
        self.options.limits = Some(limits);
        self
    }

    /// CHIPS-style balanced release.
    pub fn chips(every_ms: u32, max_position_pct: u32) -> ChannelSpec {
        ChannelSpec {
            def: &balanced::CHIPS,
            options: Options {
                gridlock_every_ms: Some(every_ms),
                max_position_pct: Some(max_position_pct),
                ..Options::default()
            },
        }
    }

    /// Deferred multilateral net settlement.
    pub fn dns(
        cycles: Vec<SimTime>,
        unwind: Unwind,
        guarantee_fund_fen: Option<i64>,
    ) -> ChannelSpec {
        ChannelSpec {
            def: &dns::DNS,
            options: Options {
                cycles: Some(cycles),
                unwind: Some(unwind),
                guarantee_fund_fen,
                ..Options::default()
            },
        }
    }

    /// Deferred bilateral net settlement.
    pub fn bilateral(cycles: Vec<SimTime>) -> ChannelSpec {
        ChannelSpec {
            def: &bilateral::BILATERAL,
            options: Options {
                cycles: Some(cycles),
                ..Options::default()
            },
        }
    }

    /// Its strategy's table.
    pub fn def(&self) -> &'static StrategyDef {
        self.def
    }

    /// Its options, complete.
    pub fn options(&self) -> &Options {
        &self.options
    }

    pub fn is_gross(&self) -> bool {
        self.def.gross
    }

    /// See [`StrategyDef::decides_by_checks`].
    pub fn decides_by_checks(&self) -> bool {
        self.def.decides_by_checks
    }

    /// Its name with the options that are part of names: `rtgs`,
    /// `rtgs+bypass+limits`, `chips`, `dns`…
    pub fn name(&self) -> String {
        let mut name = self.def.name.to_string();
        match self.options.queue {
            Some(QueueRule::Bypass) => name.push_str("+bypass"),
            Some(QueueRule::Offset) => name.push_str("+offset"),
            Some(QueueRule::Fifo) | None => {}
        }
        if self.options.limits.is_some() {
            name.push_str("+limits");
        }
        name
    }

    /// Its options in one line, for reports.
    pub fn describe(&self) -> String {
        (self.def.describe)(&self.options)
    }

    /// The `replay` flags that settle a day as this channel does; `Err`
    /// names an option no flag can carry inline (sender limits live in a
    /// file).
    pub fn replay_flags(&self) -> Result<Vec<String>, StrategyError> {
        let mut flags = vec!["--strategy".to_string(), self.name()];
        for opt in self.options.given() {
            if matches!(opt, Opt::Queue) {
                continue;
            }
            let Some(value) = self.options.flag_value(opt) else {
                return Err(StrategyError::new(
                    Some(opt),
                    format!(
                        "a {} channel's {} cannot be written as a flag",
                        self.name(),
                        opt.word()
                    ),
                ));
            };
            flags.extend([opt.forms().flag.to_string(), value]);
        }
        Ok(flags)
    }

    /// A netting channel's session times; `None` for a gross one.
    pub fn cycles(&self) -> Option<&[SimTime]> {
        self.options.cycles.as_deref()
    }

    /// A settlement guarantee fund (fen a day), if it has one.
    pub fn guarantee_fund_fen(&self) -> Option<i64> {
        self.options.guarantee_fund_fen
    }

    /// Its sender limits, if it has any.
    pub fn limits(&self) -> Option<&SenderLimits> {
        self.options.limits.as_ref()
    }

    /// Its sender limits, to fill from `[[limit]]` entries, if it has any.
    pub fn limits_mut(&mut self) -> Option<&mut SenderLimits> {
        self.options.limits.as_mut()
    }

    /// A gross channel with its periodic runs (gridlock, or the offsetting
    /// sets of `chips`) every `every_ms`; other channels are unchanged.
    pub fn with_interval(&self, every_ms: u32) -> ChannelSpec {
        let mut spec = self.clone();
        if spec.def.options.contains(&Opt::GridlockEvery) {
            spec.options.gridlock_every_ms = Some(every_ms);
        }
        spec
    }

    /// Builds the strategy state over `ledger`'s accounts (balances now are
    /// the opening ones).
    pub fn build(&self, ledger: &Ledger, day_end: SimTime) -> Result<Channel, StrategyError> {
        (self.def.channel)(&self.options, ledger, day_end)
    }
}

/// The cycle schedule of a deferred channel: fixed times, consumed in order.
#[derive(Clone, Debug)]
pub struct Cycles {
    times: Vec<SimTime>,
    next: usize,
}

impl Cycles {
    pub fn new(times: Vec<SimTime>) -> Cycles {
        Cycles { times, next: 0 }
    }
    pub fn next_time(&self) -> Option<SimTime> {
        self.times.get(self.next).copied()
    }
    pub fn advance(&mut self) {
        self.next += 1;
    }
}

// ------------------------------------------------------------ the channels

/// The strategies a channel can run, dispatched by `match`.
pub enum Channel {
    Rtgs(Rtgs),
    Dns(Dns),
    Bilateral(Bilateral),
    /// A strategy registered from outside the core.
    Extension(Box<dyn DynStrategy>),
}

macro_rules! dispatch {
    ($self:ident, $inner:ident => $body:expr, $ext:ident => $ext_body:expr) => {
        match $self {
            Channel::Rtgs($inner) => $body,
            Channel::Dns($inner) => $body,
            Channel::Bilateral($inner) => $body,
            Channel::Extension($ext) => $ext_body,
        }
    };
}

impl Strategy for Channel {
    #[inline]
    fn arrive<S: Sink>(&mut self, cx: &mut Ctx<S>, payment: Payment) {
        dispatch!(self, inner => inner.arrive(cx, payment), ext => ext.arrive(&mut cx.as_dyn(), payment))
    }
    fn next_event(&self) -> Option<SimTime> {
        dispatch!(self, inner => inner.next_event(), ext => ext.next_event())
    }
    fn run_event<S: Sink>(&mut self, cx: &mut Ctx<S>) {
        dispatch!(self, inner => inner.run_event(cx), ext => ext.run_event(&mut cx.as_dyn()))
    }
    fn release<S: Sink>(&mut self, cx: &mut Ctx<S>) {
        dispatch!(self, inner => inner.release(cx), ext => ext.release(&mut cx.as_dyn()))
    }
    fn close<S: Sink>(&mut self, cx: &mut Ctx<S>) {
        dispatch!(self, inner => inner.close(cx), ext => ext.close(&mut cx.as_dyn()))
    }
    fn is_gross(&self) -> bool {
        dispatch!(self, inner => inner.is_gross(), ext => ext.is_gross())
    }
    fn reserve(&mut self, payments: usize) {
        dispatch!(self, inner => inner.reserve(payments), _ext => {})
    }
    fn settles_on_arrival(&self, ledger: &Ledger, payment: &Payment) -> bool {
        dispatch!(self, inner => inner.settles_on_arrival(ledger, payment), ext => ext.settles_on_arrival(ledger, payment))
    }
}

impl Channel {
    /// `participant`'s balance fell outside this channel's settlements and
    /// runs (a withdrawal); only balanced release needs to know.
    pub(crate) fn balance_fell(&mut self, ledger: &Ledger, participant: u32) {
        if let Channel::Rtgs(rtgs) = self {
            rtgs.balance_fell(ledger, participant);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_strategy_names() {
        let end = SimTime::DEFAULT_DAY_END;
        let spec = |text: &str| parse_strategy(text, end).map(|c| c.spec);
        assert_eq!(spec("rtgs"), Ok(ChannelSpec::rtgs(None)));
        assert_eq!(
            spec("rtgs+gridlock:5m"),
            Ok(ChannelSpec::rtgs(Some(300_000)))
        );
        assert_eq!(
            spec("rtgs+bypass+gridlock:1m"),
            Ok(ChannelSpec::gross(QueueRule::Bypass, Some(60_000)))
        );
        let both = spec("rtgs+bypass+limits+gridlock:1m").expect("composed");
        assert_eq!(both.name(), "rtgs+bypass+limits");
        assert_eq!(
            spec("dns:10:00,15:00"),
            Ok(ChannelSpec::dns(
                vec![SimTime(36_000_000), SimTime(54_000_000)],
                Unwind::Participant,
                None
            ))
        );
        assert_eq!(spec("bilateral"), Ok(ChannelSpec::bilateral(vec![end])));
        let hourly = spec("dns+latest:hourly").expect("hourly dns");
        assert_eq!(hourly.options().unwind, Some(Unwind::Latest));
        assert_eq!(hourly.cycles().map(<[SimTime]>::len), Some(17));
        assert_eq!(hourly.cycles().and_then(<[SimTime]>::last), Some(&end));
        assert_eq!(
            spec("chips+max=300:1m"),
            Ok(ChannelSpec::chips(60_000, 300))
        );
        assert_eq!(
            spec("dns+latest+fund=1.5yuan:12:00"),
            Ok(ChannelSpec::dns(
                vec![SimTime(12 * 3_600_000)],
                Unwind::Latest,
                Some(150)
            ))
        );
        for bad in [
            "gross",
            "rtgs:5m",
            "rtgs+gridlock",
            "dns:15:00,10:00",
            "dns:25:00",
            "bilateral:noon",
            "chips+max=50",
            "chips+min=5",
            "chips:0s",
            "dns+fund=-1yuan",
            "dns+fund=lots",
            "dns+fund=5e7",
            "dns+earliest",
            "rtgs+limits:5m",
            "rtgs-bypass",
            "rtgs+bypass+offset",
            "rtgs+offset+limits",
            "dns+bypass",
            "chips+limits",
        ] {
            assert!(spec(bad).is_err(), "{bad}");
        }
        assert!(
            spec("dns+fund=5e7")
                .unwrap_err()
                .0
                .contains("+fund=5e7yuan")
        );
    }

    #[test]
    fn one_builder_refuses_what_a_strategy_does_not_take() {
        let end = SimTime::DEFAULT_DAY_END;
        let cycles = Options {
            cycles: Some(vec![end]),
            ..Options::default()
        };
        assert_eq!(
            build("rtgs", cycles.clone(), end).unwrap_err().field(),
            "cycles"
        );
        assert!(build("dns", cycles, end).is_ok());
        let old = build("rtgs-bypass", Options::default(), end).unwrap_err();
        assert!(old.message.contains("rtgs+bypass"), "{old}");
        let fund = Options {
            guarantee_fund_fen: Some(1),
            ..Options::default()
        };
        assert_eq!(
            build("bilateral", fund, end).unwrap_err().field(),
            "guarantee_fund"
        );
        assert_eq!(
            build("rtgs+bypass+limits", Options::default(), end).map(|s| s.name()),
            Ok("rtgs+bypass+limits".to_string())
        );
    }

    #[test]
    fn every_strategy_is_described_and_written_as_flags_that_read_back() {
        let end = SimTime::DEFAULT_DAY_END;
        for text in [
            "rtgs",
            "rtgs+gridlock:5m",
            "rtgs+bypass+gridlock:1m",
            "rtgs+offset",
            "chips+max=300:1m",
            "dns+latest+fund=1.5yuan:12:00",
            "bilateral:hourly",
        ] {
            let spec = parse_strategy(text, end).expect(text).spec;
            assert!(!spec.describe().is_empty());
            let flags = spec.replay_flags().expect("inline options");
            assert_eq!(flags[1], spec.name());
            let mut options = Options::default();
            for pair in flags[2..].chunks(2) {
                let value = &pair[1];
                match pair[0].as_str() {
                    "--gridlock-every" => {
                        options.gridlock_every_ms = crate::time::parse_duration_ms(value)
                    }
                    "--max-position-pct" => options.max_position_pct = value.parse().ok(),
                    "--cycles" => options.cycles = options::parse_cycles(value, end).ok(),
                    "--unwind" => options.unwind = options::parse_unwind(value).ok(),
                    "--guarantee-fund" => {
                        options.guarantee_fund_fen = crate::money::parse_amount_fen(value).ok()
                    }
                    other => panic!("{other}"),
                }
            }
            assert_eq!(build(&flags[1], options, end), Ok(spec), "{text}");
        }
        let limits = parse_strategy("rtgs+limits", end).expect("limits").spec;
        assert_eq!(limits.replay_flags().unwrap_err().opt, Some(Opt::Limits));
    }
}
