//! The ranges Services draw from: `--service-cluster-ip-range` (a CIDR)
//! and `--service-node-port-range` (`30000-32767`). Both split their
//! values as upstream does (KEP-3070, KEP-3668): a lower band kept for
//! addresses and ports clients ask for by value, and an upper band the
//! server picks from first, starting at a random offset.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// A CIDR of cluster IPs: `10.0.0.0/24`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IpRange {
    network: u128,
    prefix: u8,
    v6: bool,
}

impl IpRange {
    /// Parses `address/prefix`.
    pub fn parse(text: &str) -> Result<IpRange, String> {
        let bad = || format!("invalid CIDR address: {text}");
        let (address, prefix) = text.split_once('/').ok_or_else(bad)?;
        let address: IpAddr = address.parse().map_err(|_| bad())?;
        let prefix: u8 = prefix.parse().map_err(|_| bad())?;
        let (value, bits, v6) = match address {
            IpAddr::V4(v4) => (u128::from(u32::from(v4)), 32, false),
            IpAddr::V6(v6) => (u128::from(v6), 128, true),
        };
        if prefix > bits {
            return Err(bad());
        }
        if v6 && prefix < 64 {
            return Err(format!(
                "shortest allowed prefix length for service CIDR is 64, got {prefix}"
            ));
        }
        let host_bits = u32::from(bits - prefix);
        let mask = if host_bits >= 128 {
            0
        } else {
            !((1u128 << host_bits) - 1)
        };
        let range = IpRange {
            network: value & mask,
            prefix,
            v6,
        };
        if range.first() > range.last() {
            return Err(format!("{text} has no addresses to give to services"));
        }
        Ok(range)
    }

    /// `IPv4` or `IPv6`, as Service `ipFamilies` name them.
    pub fn family(&self) -> &'static str {
        if self.v6 { "IPv6" } else { "IPv4" }
    }

    fn host_bits(&self) -> u32 {
        u32::from(if self.v6 { 128 } else { 32 } - self.prefix)
    }

    /// The network's own address plus one: never the network address.
    pub fn first(&self) -> u128 {
        self.network + 1
    }

    /// The last address services may use (not the IPv4 broadcast address).
    pub fn last(&self) -> u128 {
        let bits = self.host_bits();
        let broadcast = if bits >= 128 {
            u128::MAX
        } else {
            self.network | ((1u128 << bits) - 1)
        };
        if self.v6 { broadcast } else { broadcast - 1 }
    }

    /// How many addresses the lower band (kept for requested values) holds.
    fn lower_band(&self) -> u128 {
        let size = match self.host_bits() {
            bits if bits >= 127 => u128::MAX,
            bits => 1u128 << bits,
        };
        band_offset(size, 16, 256, 16)
    }

    /// The address as text, or `None` if it is not one of this range's.
    pub fn contains(&self, ip: &str) -> Option<u128> {
        let value = match ip.parse::<IpAddr>().ok()? {
            IpAddr::V4(v4) if !self.v6 => u128::from(u32::from(v4)),
            IpAddr::V6(v6) if self.v6 => u128::from(v6),
            _ => return None,
        };
        (self.first()..=self.last())
            .contains(&value)
            .then_some(value)
    }

    /// The text of an address of this range's family.
    pub fn text(&self, value: u128) -> String {
        if self.v6 {
            Ipv6Addr::from(value).to_string()
        } else {
            // IPv4 ranges only hold values below 2^32.
            Ipv4Addr::from(value as u32).to_string()
        }
    }

    /// Every address of the range in the order the server tries them:
    /// the upper band from a random start, wrapping, then the lower band
    /// likewise.
    pub fn candidates(&self, random: u64) -> impl Iterator<Item = u128> + '_ {
        let split = self
            .first()
            .saturating_add(self.lower_band())
            .min(self.last() + 1);
        let upper = rotated(split, self.last(), random);
        let lower = if split > self.first() {
            Some(rotated(self.first(), split - 1, random))
        } else {
            None
        };
        upper.chain(lower.into_iter().flatten())
    }
}

impl fmt::Display for IpRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.text(self.network), self.prefix)
    }
}

/// An inclusive range of node ports: `30000-32767`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PortRange {
    pub base: u16,
    pub last: u16,
}

impl PortRange {
    /// Parses `first-last` or `first+count`, as upstream's flag takes them.
    pub fn parse(text: &str) -> Result<PortRange, String> {
        let bad =
            || format!("invalid port range {text:?}: expected <first>-<last> or <first>+<count>");
        let number = |s: &str| s.trim().parse::<u16>().map_err(|_| bad());
        let (base, last) = if let Some((a, b)) = text.split_once('-') {
            (number(a)?, number(b)?)
        } else if let Some((a, n)) = text.split_once('+') {
            let base = number(a)?;
            (base, base.checked_add(number(n)?).ok_or_else(bad)?)
        } else {
            let port = number(text)?;
            (port, port)
        };
        if base > last || base == 0 {
            return Err(bad());
        }
        Ok(PortRange { base, last })
    }

    /// Whether `port` is in the range.
    pub fn contains(&self, port: u16) -> bool {
        (self.base..=self.last).contains(&port)
    }

    /// Every port in the order the server tries them (as for IPs).
    pub fn candidates(&self, random: u64) -> impl Iterator<Item = u16> + '_ {
        let size = u128::from(self.last - self.base) + 1;
        let split = u128::from(self.base) + band_offset(size, 16, 128, 32);
        let (first, last) = (u128::from(self.base), u128::from(self.last));
        let upper = rotated(split.min(last + 1), last, random);
        let lower = (split > first).then(|| rotated(first, split - 1, random));
        // Ports fit in u16: the range's bounds do.
        upper.chain(lower.into_iter().flatten()).map(|p| p as u16)
    }
}

impl fmt::Display for PortRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.base, self.last)
    }
}

/// Upstream's `calculateRangeOffset`: no lower band below `min` values,
/// else a `1/step` share of the range, kept between `min` and `max`.
fn band_offset(size: u128, min: u128, max: u128, step: u128) -> u128 {
    if size < min {
        0
    } else {
        (size / step).clamp(min, max)
    }
}

/// `first..=last` starting at an offset from `random`, wrapping around.
/// Empty when `first > last`.
fn rotated(first: u128, last: u128, random: u64) -> impl Iterator<Item = u128> {
    let len = if first > last {
        0
    } else {
        (last - first).saturating_add(1)
    };
    let start = if len == 0 {
        0
    } else {
        u128::from(random) % len
    };
    (0..len).map(move |i| first + (start + i) % len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_ranges_skip_the_network_and_broadcast_addresses() {
        let range = IpRange::parse("10.0.0.0/24").unwrap();
        assert_eq!(range.text(range.first()), "10.0.0.1");
        assert_eq!(range.text(range.last()), "10.0.0.254");
        assert_eq!(range.to_string(), "10.0.0.0/24");
        assert!(range.contains("10.0.0.0").is_none());
        assert!(range.contains("10.0.0.255").is_none());
        assert!(range.contains("10.0.1.1").is_none());
        assert!(range.contains("10.0.0.17").is_some());
        assert_eq!(range.family(), "IPv4");
        assert!(IpRange::parse("10.0.0.0").is_err());
        assert!(IpRange::parse("10.0.0.0/33").is_err());
        assert!(IpRange::parse("10.0.0.0/32").is_err());
        assert!(IpRange::parse("fd00::/48").is_err());
        assert_eq!(
            IpRange::parse("10.1.2.3/16").unwrap().to_string(),
            "10.1.0.0/16"
        );
    }

    #[test]
    fn dynamic_addresses_come_from_the_upper_band_first() {
        let range = IpRange::parse("10.0.0.0/24").unwrap();
        let order: Vec<String> = range.candidates(7).map(|ip| range.text(ip)).collect();
        assert_eq!(order.len(), 254);
        // 16 addresses (.1-.16) are kept for requests; the rest go first.
        assert!(
            order[..238]
                .iter()
                .all(|ip| range.contains(ip).unwrap() > range.first() + 15)
        );
        assert_eq!(order[0], "10.0.0.24");
        let small = IpRange::parse("10.0.0.0/29").unwrap();
        let mut all: Vec<u128> = small.candidates(3).collect();
        all.sort_unstable();
        assert_eq!(all.len(), 6);
        assert_eq!(small.text(all[0]), "10.0.0.1");
        assert_eq!(small.text(all[5]), "10.0.0.6");
    }

    #[test]
    fn port_ranges_parse_and_cover_every_port() {
        let range = PortRange::parse("30000-32767").unwrap();
        assert!(range.contains(30000) && range.contains(32767) && !range.contains(32768));
        assert_eq!(
            PortRange::parse("30000+9").unwrap(),
            PortRange {
                base: 30000,
                last: 30009
            }
        );
        assert!(PortRange::parse("32767-30000").is_err());
        assert!(PortRange::parse("ports").is_err());
        let mut all: Vec<u16> = range.candidates(12345).collect();
        assert_eq!(all.len(), 2768);
        // 86 ports (a 32nd of the range) are kept for requests.
        assert!(all[..2682].iter().all(|p| *p >= 30086));
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), 2768);
    }
}
