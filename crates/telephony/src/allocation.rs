//! Allocation of device supervisions to the supervision links of a domain
//! (guide 4.1–4.2). Pure functions, no I/O.
//!
//! Each link has a capacity and a list of cluster sites it serves
//! explicitly ([`SitePattern`]s such as `1.1`, `3.*`). Devices are placed in
//! three passes:
//! 1. **explicit**: a device whose Site.Cluster is listed by one or more
//!    links goes to the least-loaded of those links that still has room;
//! 2. **overflow**: when all of its explicit links are saturated, it goes to
//!    the least-loaded of the *other* links that has room;
//! 3. **implicit**: a device whose Site.Cluster no link lists goes to the
//!    least-loaded link with room.
//!
//! "Least loaded" is the lowest occupancy `load / capacity` (compared
//! exactly, without floats); ties go to the link with more free places, then
//! to the lower link index. Devices are taken in order of number, so the
//! result does not depend on the order of the input. A device that finds no
//! room anywhere is returned in [`Allocation::unplaced`]; that only happens
//! once the total capacity is used up.

use std::fmt;
use std::str::FromStr;

/// Why a Site.Cluster text was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{text:?} is not a Site.Cluster: write it as SITE.CLUSTER with numbers (e.g. 1.1), or SITE.* for every cluster of a site"
)]
pub struct SiteParseError {
    pub text: String,
}

/// Where a device is logged: site and cluster numbers (`3.1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SiteCluster {
    pub site: u32,
    pub cluster: u32,
}

impl SiteCluster {
    pub fn new(site: u32, cluster: u32) -> SiteCluster {
        SiteCluster { site, cluster }
    }
}

impl FromStr for SiteCluster {
    type Err = SiteParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || SiteParseError { text: s.to_owned() };
        let (site, cluster) = s.trim().split_once('.').ok_or_else(err)?;
        Ok(SiteCluster {
            site: site.parse().map_err(|_| err())?,
            cluster: cluster.parse().map_err(|_| err())?,
        })
    }
}

impl fmt::Display for SiteCluster {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.site, self.cluster)
    }
}

/// A cluster site as listed on a link: one cluster (`1.1`) or every
/// cluster of a site (`1.*`, or just `1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SitePattern {
    pub site: u32,
    /// `None`: every cluster.
    pub cluster: Option<u32>,
}

impl SitePattern {
    pub fn matches(&self, at: SiteCluster) -> bool {
        self.site == at.site && self.cluster.is_none_or(|c| c == at.cluster)
    }
}

impl FromStr for SitePattern {
    type Err = SiteParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || SiteParseError { text: s.to_owned() };
        let t = s.trim();
        let (site, cluster) = match t.split_once('.') {
            Some((site, "*")) => (site, None),
            Some((site, c)) => (site, Some(c.parse().map_err(|_| err())?)),
            None => (t, None),
        };
        Ok(SitePattern {
            site: site.parse().map_err(|_| err())?,
            cluster,
        })
    }
}

impl fmt::Display for SitePattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.cluster {
            Some(c) => write!(f, "{}.{c}", self.site),
            None => write!(f, "{}.*", self.site),
        }
    }
}

/// What the allocation needs to know of a link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkSlot {
    pub capacity: usize,
    pub sites: Vec<SitePattern>,
}

impl LinkSlot {
    fn lists(&self, at: SiteCluster) -> bool {
        self.sites.iter().any(|p| p.matches(at))
    }
}

/// What the allocation needs to know of a device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceSlot {
    pub number: String,
    pub site: SiteCluster,
}

/// How a device got its link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// On a link that lists its site.
    Explicit,
    /// Its explicit links were full: on another link.
    Overflow,
    /// No link lists its site.
    Implicit,
}

/// The result: for each input device (same index), its link and how it got
/// there, or `None` when no room was left.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allocation {
    pub assignment: Vec<Option<(usize, Placement)>>,
    /// Devices placed on each link.
    pub load: Vec<usize>,
    /// Indices of the devices that found no room.
    pub unplaced: Vec<usize>,
}

impl Allocation {
    /// How many devices of `site` (any cluster matching) each link holds.
    pub fn load_by_site(&self, devices: &[DeviceSlot], site: SitePattern) -> Vec<usize> {
        let mut v = vec![0; self.load.len()];
        for (d, a) in devices.iter().zip(&self.assignment) {
            if let Some((link, _)) = a
                && site.matches(d.site)
            {
                v[*link] += 1;
            }
        }
        v
    }
}

/// `a` is less loaded than `b` (occupancy, then free places, then index).
fn less_loaded(links: &[LinkSlot], load: &[usize], a: usize, b: usize) -> bool {
    // load_a / cap_a < load_b / cap_b  <=>  load_a * cap_b < load_b * cap_a
    let (la, ca) = (load[a] as u128, links[a].capacity as u128);
    let (lb, cb) = (load[b] as u128, links[b].capacity as u128);
    let (x, y) = (la * cb, lb * ca);
    if x != y {
        return x < y;
    }
    let (fa, fb) = (ca - la, cb - lb);
    if fa != fb {
        return fa > fb;
    }
    a < b
}

fn least_loaded(
    links: &[LinkSlot],
    load: &[usize],
    eligible: impl Fn(usize) -> bool,
) -> Option<usize> {
    let mut best: Option<usize> = None;
    for i in 0..links.len() {
        if load[i] >= links[i].capacity || !eligible(i) {
            continue;
        }
        best = match best {
            Some(b) if !less_loaded(links, load, i, b) => Some(b),
            _ => Some(i),
        };
    }
    best
}

/// Places every device on a link; see the module documentation.
pub fn allocate(links: &[LinkSlot], devices: &[DeviceSlot]) -> Allocation {
    let mut order: Vec<usize> = (0..devices.len()).collect();
    order.sort_by(|&a, &b| {
        (&devices[a].number, devices[a].site).cmp(&(&devices[b].number, devices[b].site))
    });
    let mut load = vec![0usize; links.len()];
    let mut assignment = vec![None; devices.len()];
    let mut overflow = Vec::new();
    let mut implicit = Vec::new();

    for &d in &order {
        let at = devices[d].site;
        if !links.iter().any(|l| l.lists(at)) {
            implicit.push(d);
            continue;
        }
        match least_loaded(links, &load, |i| links[i].lists(at)) {
            Some(i) => {
                load[i] += 1;
                assignment[d] = Some((i, Placement::Explicit));
            }
            None => overflow.push(d),
        }
    }
    let mut unplaced = Vec::new();
    for (list, how) in [
        (overflow, Placement::Overflow),
        (implicit, Placement::Implicit),
    ] {
        for d in list {
            let at = devices[d].site;
            let pick = least_loaded(links, &load, |i| {
                how == Placement::Implicit || !links[i].lists(at)
            });
            match pick {
                Some(i) => {
                    load[i] += 1;
                    assignment[d] = Some((i, how));
                }
                None => unplaced.push(d),
            }
        }
    }
    unplaced.sort_unstable();
    Allocation {
        assignment,
        load,
        unplaced,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn pat(s: &str) -> SitePattern {
        s.parse().expect("pattern")
    }

    fn link(capacity: usize, sites: &[&str]) -> LinkSlot {
        LinkSlot {
            capacity,
            sites: sites.iter().map(|s| pat(s)).collect(),
        }
    }

    /// `count` devices at `site` numbered from `first`.
    fn devices_at(first: u32, count: u32, site: &str) -> Vec<DeviceSlot> {
        let at: SiteCluster = site.parse().expect("site");
        (first..first + count)
            .map(|n| DeviceSlot {
                number: n.to_string(),
                site: at,
            })
            .collect()
    }

    /// The guide's example (4.2): links 0, 1, 2 at sites 1.1, 2.1, 3.1 with
    /// capacities 500, 250, 200; 500 subscribers at site 1, 250 at site 2,
    /// 100 at site 3 and 100 at site 4.
    fn guide_devices() -> Vec<DeviceSlot> {
        let mut d = devices_at(10_000, 500, "1.1");
        d.extend(devices_at(20_000, 250, "2.1"));
        d.extend(devices_at(30_000, 100, "3.1"));
        d.extend(devices_at(40_000, 100, "4.1"));
        d
    }

    fn table(a: &Allocation, devices: &[DeviceSlot]) -> Vec<Vec<usize>> {
        ["1.*", "2.*", "3.*", "4.*"]
            .iter()
            .map(|s| a.load_by_site(devices, pat(s)))
            .collect()
    }

    const GUIDE_TABLE: [[usize; 3]; 4] = [[500, 0, 0], [0, 250, 0], [0, 0, 100], [0, 0, 100]];

    #[test]
    fn guide_table_with_site_4_listed_on_link_2() {
        let links = [
            link(500, &["1.*"]),
            link(250, &["2.*"]),
            link(200, &["3.*", "4.*"]),
        ];
        let devices = guide_devices();
        let a = allocate(&links, &devices);
        assert_eq!(
            table(&a, &devices),
            GUIDE_TABLE.map(|r| r.to_vec()).to_vec()
        );
        assert_eq!(a.load, vec![500, 250, 200]);
        assert!(a.unplaced.is_empty());
        assert!(
            a.assignment
                .iter()
                .all(|x| matches!(x, Some((_, Placement::Explicit))))
        );
    }

    #[test]
    fn guide_table_with_site_4_implicit() {
        // Site 4 listed nowhere: links 0 and 1 are full, so it can only
        // land on link 2, giving the same figures.
        let links = [
            link(500, &["1.*"]),
            link(250, &["2.*"]),
            link(200, &["3.*"]),
        ];
        let devices = guide_devices();
        let a = allocate(&links, &devices);
        assert_eq!(
            table(&a, &devices),
            GUIDE_TABLE.map(|r| r.to_vec()).to_vec()
        );
        let site4 = devices
            .iter()
            .zip(&a.assignment)
            .filter(|(d, _)| d.site.site == 4);
        assert!(
            site4
                .into_iter()
                .all(|(_, x)| *x == Some((2, Placement::Implicit)))
        );
    }

    #[test]
    fn explicit_site_on_two_links_fills_least_loaded_first() {
        let links = [link(100, &["1.*"]), link(100, &["1.*"])];
        let devices = devices_at(1, 60, "1.1");
        let a = allocate(&links, &devices);
        assert_eq!(a.load, vec![30, 30]);
    }

    #[test]
    fn explicit_overflow_goes_to_other_links_least_loaded_first() {
        // Site 1 has 600 subscribers for a 500 link: 100 overflow. Link 1
        // (250) holds site 2's 200, link 2 (200) site 3's 100: link 2 is
        // less loaded (50% vs 80%) and takes the overflow until even.
        let links = [
            link(500, &["1.*"]),
            link(250, &["2.*"]),
            link(200, &["3.*"]),
        ];
        let mut devices = devices_at(10_000, 600, "1.1");
        devices.extend(devices_at(20_000, 200, "2.1"));
        devices.extend(devices_at(30_000, 100, "3.1"));
        let a = allocate(&links, &devices);
        assert_eq!(a.load_by_site(&devices, pat("1.*")), vec![500, 22, 78]);
        assert_eq!(a.load, vec![500, 222, 178]);
        assert!(a.unplaced.is_empty());
        let overflowed = a
            .assignment
            .iter()
            .filter(|x| matches!(x, Some((_, Placement::Overflow))))
            .count();
        assert_eq!(overflowed, 100);
    }

    #[test]
    fn overflow_waits_for_explicit_sites() {
        // Site 1 overflows, but site 2's subscribers keep their link.
        let links = [link(10, &["1.*"]), link(10, &["2.*"])];
        let mut devices = devices_at(1, 15, "1.1");
        devices.extend(devices_at(100, 10, "2.1"));
        let a = allocate(&links, &devices);
        assert_eq!(a.load_by_site(&devices, pat("2.*")), vec![0, 10]);
        assert_eq!(a.unplaced.len(), 5);
    }

    #[test]
    fn implicit_sites_spread_by_occupancy() {
        let links = [link(300, &[]), link(100, &[])];
        let devices = devices_at(1, 200, "9.9");
        let a = allocate(&links, &devices);
        assert_eq!(a.load, vec![150, 50]);
    }

    #[test]
    fn cluster_patterns() {
        let p = pat("1.2");
        assert!(p.matches(SiteCluster::new(1, 2)));
        assert!(!p.matches(SiteCluster::new(1, 3)));
        assert!(pat("1").matches(SiteCluster::new(1, 3)));
        assert!(pat("1.*").matches(SiteCluster::new(1, 7)));
        assert!("x.1".parse::<SitePattern>().is_err());
        assert!("1".parse::<SiteCluster>().is_err());
        assert_eq!(pat("3").to_string(), "3.*");
    }

    fn arb_links() -> impl Strategy<Value = Vec<LinkSlot>> {
        prop::collection::vec(
            (
                0usize..40,
                prop::collection::vec((0u32..4, prop::option::of(0u32..3)), 0..3),
            )
                .prop_map(|(capacity, sites)| LinkSlot {
                    capacity,
                    sites: sites
                        .into_iter()
                        .map(|(site, cluster)| SitePattern { site, cluster })
                        .collect(),
                }),
            0..5,
        )
    }

    fn arb_devices() -> impl Strategy<Value = Vec<DeviceSlot>> {
        prop::collection::vec((0u32..5, 0u32..3), 0..120).prop_map(|v| {
            v.into_iter()
                .enumerate()
                .map(|(i, (site, cluster))| DeviceSlot {
                    number: format!("{}", 1000 + i),
                    site: SiteCluster { site, cluster },
                })
                .collect()
        })
    }

    proptest! {
        #[test]
        fn never_exceeds_capacity(links in arb_links(), devices in arb_devices()) {
            let a = allocate(&links, &devices);
            let mut counted = vec![0usize; links.len()];
            for x in a.assignment.iter().flatten() {
                counted[x.0] += 1;
            }
            prop_assert_eq!(&counted, &a.load);
            for (l, load) in links.iter().zip(&a.load) {
                prop_assert!(*load <= l.capacity);
            }
        }

        #[test]
        fn places_every_device_while_capacity_allows(links in arb_links(), devices in arb_devices()) {
            let a = allocate(&links, &devices);
            let total: usize = links.iter().map(|l| l.capacity).sum();
            let placed = a.assignment.iter().flatten().count();
            prop_assert_eq!(placed, devices.len().min(total));
            prop_assert_eq!(placed + a.unplaced.len(), devices.len());
        }

        #[test]
        fn explicit_devices_stay_on_their_links(links in arb_links(), devices in arb_devices()) {
            let a = allocate(&links, &devices);
            for (d, x) in devices.iter().zip(&a.assignment) {
                if let Some((i, how)) = x {
                    let listed = links[*i].lists(d.site);
                    match how {
                        Placement::Explicit => prop_assert!(listed),
                        Placement::Overflow => prop_assert!(!listed),
                        Placement::Implicit => prop_assert!(!links.iter().any(|l| l.lists(d.site))),
                    }
                }
            }
        }

        #[test]
        fn deterministic_and_order_independent(links in arb_links(), devices in arb_devices(), seed in any::<u64>()) {
            let a = allocate(&links, &devices);
            prop_assert_eq!(&a, &allocate(&links, &devices));
            // Same placement per device whatever the input order.
            let mut shuffled: Vec<usize> = (0..devices.len()).collect();
            let mut s = seed | 1;
            for i in (1..shuffled.len()).rev() {
                s ^= s << 13; s ^= s >> 7; s ^= s << 17;
                shuffled.swap(i, (s % (i as u64 + 1)) as usize);
            }
            let permuted: Vec<DeviceSlot> = shuffled.iter().map(|&i| devices[i].clone()).collect();
            let b = allocate(&links, &permuted);
            for (k, &i) in shuffled.iter().enumerate() {
                prop_assert_eq!(b.assignment[k], a.assignment[i]);
            }
        }
    }
}
