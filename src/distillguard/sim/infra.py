"""Network and client metadata that looks like what a provider's edge really records.

IP blocks are real allocations of the named networks (datacenter, residential ISP, mobile
carrier with CGNAT, secure web gateways that corporate traffic egresses through) with their
real AS numbers. User agents are real SDK / HTTP-client / browser strings, and every client
family carries the JA4 fingerprint of its TLS stack, so a spoofed UA over a Python TLS stack
shows up as a mismatch, exactly as it would at a real edge.

Everything here is data plus small vectorised helpers; nothing is per-event Python.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

# (cidr, asn, country) per network kind. Real prefixes announced by these ASNs.
DATACENTER: tuple[tuple[str, int, str], ...] = (
    ("3.208.0.0/12", 14618, "US"),        # Amazon AWS us-east-1
    ("52.0.0.0/11", 16509, "US"),         # Amazon
    ("54.64.0.0/11", 16509, "JP"),        # Amazon ap-northeast
    ("13.212.0.0/14", 16509, "SG"),       # Amazon ap-southeast
    ("18.156.0.0/14", 16509, "DE"),       # Amazon eu-central
    ("34.64.0.0/10", 396982, "US"),       # Google Cloud
    ("35.184.0.0/13", 396982, "US"),      # Google Cloud
    ("20.0.0.0/11", 8075, "US"),          # Microsoft Azure
    ("40.64.0.0/10", 8075, "NL"),         # Microsoft Azure
    ("134.209.0.0/16", 14061, "US"),      # DigitalOcean
    ("167.99.0.0/16", 14061, "DE"),       # DigitalOcean
    ("159.89.0.0/16", 14061, "SG"),       # DigitalOcean
    ("88.198.0.0/16", 24940, "DE"),       # Hetzner
    ("95.216.0.0/16", 24940, "FI"),       # Hetzner
    ("51.68.0.0/16", 16276, "FR"),        # OVH
    ("45.32.0.0/16", 20473, "US"),        # Vultr / Choopa
    ("149.28.0.0/16", 20473, "SG"),       # Vultr
    ("172.104.0.0/15", 63949, "SG"),      # Linode / Akamai
    ("129.146.0.0/16", 31898, "US"),      # Oracle Cloud
    ("47.74.0.0/15", 45102, "SG"),        # Alibaba Cloud intl
    ("8.209.0.0/16", 45102, "DE"),        # Alibaba Cloud intl
    ("47.88.0.0/14", 45102, "US"),        # Alibaba Cloud intl
    ("43.128.0.0/12", 132203, "HK"),      # Tencent Cloud intl
    ("129.226.0.0/16", 132203, "SG"),     # Tencent Cloud intl
    ("5.161.0.0/16", 213230, "US"),       # Hetzner US
    ("37.120.128.0/17", 9009, "GB"),      # M247 (VPN exits)
    ("185.213.154.0/23", 39351, "SE"),    # 31173 / Mullvad exits
    ("146.70.0.0/16", 9009, "NL"),        # M247
)

RESIDENTIAL: tuple[tuple[str, int, str], ...] = (
    ("73.0.0.0/8", 7922, "US"),           # Comcast
    ("24.0.0.0/12", 7922, "US"),          # Comcast
    ("71.64.0.0/12", 20115, "US"),        # Charter
    ("99.0.0.0/11", 7018, "US"),          # AT&T
    ("108.0.0.0/14", 701, "US"),          # Verizon Fios
    ("99.224.0.0/11", 812, "CA"),         # Rogers
    ("70.24.0.0/13", 577, "CA"),          # Bell Canada
    ("86.128.0.0/10", 2856, "GB"),        # BT
    ("79.192.0.0/10", 3320, "DE"),        # Deutsche Telekom
    ("90.0.0.0/9", 3215, "FR"),           # Orange
    ("83.32.0.0/11", 3352, "ES"),         # Telefonica
    ("151.32.0.0/11", 1267, "IT"),        # WindTre
    ("77.160.0.0/12", 1136, "NL"),        # KPN
    ("153.128.0.0/10", 4713, "JP"),       # NTT OCN
    ("121.128.0.0/10", 4766, "KR"),       # Korea Telecom
    ("101.160.0.0/11", 1221, "AU"),       # Telstra
    ("177.0.0.0/14", 26599, "BR"),        # Vivo
    ("187.128.0.0/10", 8151, "MX"),       # Telmex
    ("122.160.0.0/12", 24560, "IN"),      # Airtel broadband
    ("114.80.0.0/12", 4134, "CN"),        # Chinanet
    ("123.112.0.0/12", 4837, "CN"),       # China Unicom
    ("118.160.0.0/13", 3462, "TW"),       # Chunghwa HiNet
    ("112.118.0.0/15", 4760, "HK"),       # HKT
    ("116.86.0.0/15", 9506, "SG"),        # Singtel
    ("1.52.0.0/14", 18403, "VN"),         # FPT
    ("95.24.0.0/13", 8402, "RU"),         # Beeline
    ("178.64.0.0/13", 12389, "RU"),       # Rostelecom
    ("88.224.0.0/11", 9121, "TR"),        # Turk Telekom
    ("41.32.0.0/12", 8452, "EG"),         # TE Data
    ("105.0.0.0/12", 36926, "KE"),        # Safaricom
)

MOBILE: tuple[tuple[str, int, str], ...] = (
    ("172.32.0.0/11", 21928, "US"),       # T-Mobile US CGNAT
    ("174.192.0.0/10", 22394, "US"),      # Verizon Wireless
    ("49.32.0.0/11", 55836, "IN"),        # Reliance Jio
    ("106.192.0.0/11", 45609, "IN"),      # Airtel mobile
    ("109.40.0.0/13", 3209, "DE"),        # Vodafone DE
    ("92.40.0.0/14", 12576, "GB"),        # EE
    ("126.0.0.0/8", 17676, "JP"),         # SoftBank
    ("39.144.0.0/12", 9808, "CN"),        # China Mobile
    ("223.24.0.0/13", 131445, "TH"),      # AIS
    ("179.0.0.0/14", 26615, "BR"),        # TIM Brasil
)

#: Secure web gateways / corporate egress (one org = a handful of addresses).
CORPORATE: tuple[tuple[str, int, str], ...] = (
    ("165.225.0.0/17", 53813, "US"),      # Zscaler
    ("136.226.0.0/16", 53813, "DE"),      # Zscaler
    ("147.161.128.0/17", 53813, "GB"),    # Zscaler
    ("208.127.0.0/16", 54113, "US"),      # Fastly-fronted corp egress
    ("130.41.0.0/16", 16509, "US"),       # AWS-hosted corp NAT
    ("192.35.0.0/16", 3356, "US"),        # Lumen business
    ("212.58.224.0/19", 2818, "GB"),      # BBC-style enterprise block
    ("203.0.178.0/23", 4826, "AU"),       # Vocus business
    ("210.160.0.0/14", 2516, "JP"),       # KDDI business
)

#: University networks (campus NAT); education accounts egress here.
CAMPUS: tuple[tuple[str, int, str], ...] = (
    ("171.64.0.0/14", 32, "US"),          # Stanford
    ("18.7.0.0/16", 3, "US"),             # MIT
    ("128.32.0.0/16", 25, "US"),          # UC Berkeley
    ("128.2.0.0/16", 9, "US"),            # Carnegie Mellon
    ("141.211.0.0/16", 36375, "US"),      # U Michigan
    ("129.67.0.0/16", 786, "GB"),         # Oxford (JANET)
    ("131.111.0.0/16", 786, "GB"),        # Cambridge (JANET)
    ("129.132.0.0/16", 559, "CH"),        # ETH Zurich (SWITCH)
    ("166.111.0.0/16", 4538, "CN"),       # Tsinghua (CERNET)
    ("133.11.0.0/16", 2907, "JP"),        # U Tokyo (SINET)
    ("143.248.0.0/16", 1781, "KR"),       # KAIST
    ("137.132.0.0/16", 7472, "SG"),       # NUS
    ("128.100.0.0/16", 239, "CA"),        # U Toronto
    ("129.94.0.0/16", 7575, "AU"),        # AARNet
)

IPV6: dict[str, tuple[tuple[str, int, str], ...]] = {
    "residential": (
        ("2601::/20", 7922, "US"), ("2003::/19", 3320, "DE"), ("2a01:cb00::/24", 3215, "FR"),
        ("240e::/20", 4134, "CN"), ("2405:6580::/29", 4713, "JP"), ("2001:e60::/27", 4766, "KR"),
    ),
    "mobile": (
        ("2607:fb90::/28", 21928, "US"), ("2409:4000::/22", 55836, "IN"),
        ("2a02:3030::/29", 3209, "DE"), ("2409:8900::/24", 9808, "CN"),
    ),
    "datacenter": (
        ("2600:1f00::/24", 16509, "US"), ("2600:1900::/28", 396982, "US"),
        ("2a01:4f8::/29", 24940, "DE"), ("2604:a880::/32", 14061, "US"),
    ),
}

COUNTRY_TZ: dict[str, float] = {
    "US": -6.0, "CA": -5.0, "MX": -6.0, "BR": -3.0, "GB": 0.0, "DE": 1.0, "FR": 1.0,
    "ES": 1.0, "IT": 1.0, "NL": 1.0, "FI": 2.0, "SE": 1.0, "RU": 3.0, "TR": 3.0, "EG": 2.0,
    "KE": 3.0, "IN": 5.5, "SG": 8.0, "CN": 8.0, "HK": 8.0, "TW": 8.0, "JP": 9.0, "KR": 9.0,
    "AU": 10.0, "VN": 7.0, "TH": 7.0, "CH": 1.0, "IL": 2.0, "PL": 1.0, "NG": 1.0, "AR": -3.0,
    "ID": 7.0, "PH": 8.0, "AE": 4.0,
}


@dataclass(frozen=True)
class IpPool:
    """A materialised set of addresses: strings, ASNs and declared-geo country."""

    ip: pa.Array
    asn: np.ndarray
    country: np.ndarray  # object array of ISO codes

    def __len__(self) -> int:
        return len(self.asn)


def _blocks(kind: str, countries: tuple[str, ...] | None) -> tuple[tuple[str, int, str], ...]:
    table = {
        "datacenter": DATACENTER, "residential": RESIDENTIAL, "mobile": MOBILE,
        "corporate": CORPORATE, "campus": CAMPUS,
    }[kind]
    if countries:
        sel = tuple(b for b in table if b[2] in countries)
        if sel:
            return sel
    return table


def make_ip_pool(
    rng: np.random.Generator,
    kind: str,
    n: int,
    *,
    countries: tuple[str, ...] | None = None,
    v6_share: float = 0.0,
    n_subnets: int | None = None,
) -> IpPool:
    """Draw ``n`` addresses of a network kind.

    ``n_subnets`` concentrates the pool in that many /24s (a VPS fleet, a proxy provider's
    leased ranges, a company's egress), instead of scattering it over whole ISPs.
    """
    blocks = _blocks(kind, countries)
    bi = rng.integers(0, len(blocks), size=n)
    nets = [ipaddress.ip_network(b[0]) for b in blocks]
    out: list[str] = []
    if n_subnets:
        sub_block = rng.integers(0, len(blocks), size=n_subnets)
        sub_base = np.array(
            [
                int(nets[b].network_address)
                + (int(rng.integers(0, max(1, nets[b].num_addresses // 256))) << 8)
                for b in sub_block
            ],
            dtype=np.int64,
        )
        pick = rng.integers(0, n_subnets, size=n)
        bi = sub_block[pick]
        ints = sub_base[pick] + rng.integers(1, 255, size=n)
        out = [str(ipaddress.IPv4Address(int(x))) for x in ints]
    else:
        for b in bi:
            net = nets[b]
            off = int(rng.integers(1, net.num_addresses - 1))
            out.append(str(net.network_address + off))
    asn = np.array([blocks[b][1] for b in bi], dtype=np.int64)
    ctry = np.array([blocks[b][2] for b in bi], dtype=object)
    if v6_share > 0 and kind in IPV6:
        v6 = IPV6[kind]
        if countries:
            v6 = tuple(b for b in v6 if b[2] in countries) or v6
        m = rng.random(n) < v6_share
        for i in np.flatnonzero(m):
            b = v6[int(rng.integers(0, len(v6)))]
            net6 = ipaddress.ip_network(b[0])
            # a /64 per subscriber, random interface id
            sub = int(rng.integers(0, 2**20)) << 64
            iid = int(rng.integers(1, 2**62))
            out[i] = str(ipaddress.IPv6Address(int(net6.network_address) + sub + iid))
            asn[i] = b[1]
            ctry[i] = b[2]
    return IpPool(ip=pa.array(out, pa.string()), asn=asn, country=ctry)


# --------------------------------------------------------------------------- clients
# family -> (user-agent versions, JA4 fingerprints of that stack)
UA_FAMILIES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "openai-python": (
        tuple(f"OpenAI/Python {v}" for v in (
            "1.40.6", "1.51.2", "1.54.4", "1.58.1", "1.61.0", "1.66.3", "1.75.0", "1.86.0",
            "1.93.0", "1.99.9", "2.3.0", "2.8.1")),
        ("t13d1812h2_85036bcba153_b0f7e37a9b40", "t13d1813h2_85036bcba153_375ca2c5e164"),
    ),
    "async-openai-python": (
        tuple(f"AsyncOpenAI/Python {v}" for v in ("1.54.4", "1.66.3", "1.86.0", "2.3.0")),
        ("t13d1812h2_85036bcba153_b0f7e37a9b40",),
    ),
    "anthropic-python": (
        tuple(f"Anthropic/Python {v}" for v in (
            "0.34.2", "0.39.0", "0.42.0", "0.49.0", "0.52.2", "0.57.1", "0.64.0", "0.69.0")),
        ("t13d1812h2_85036bcba153_b0f7e37a9b40", "t13d1813h2_85036bcba153_375ca2c5e164"),
    ),
    "openai-node": (
        tuple(f"OpenAI/JS {v}" for v in ("4.67.3", "4.77.0", "4.85.1", "5.8.2", "5.12.0")),
        ("t13d1712h2_5b57614c22b0_93c746dc12af",),
    ),
    "anthropic-node": (
        tuple(f"Anthropic/JS {v}" for v in ("0.32.1", "0.37.0", "0.39.0", "0.52.0")),
        ("t13d1712h2_5b57614c22b0_93c746dc12af",),
    ),
    "langchain": (
        tuple(f"langchain-openai/{v} OpenAI/Python 1.{m}.0" for v, m in (
            ("0.2.14", 58), ("0.3.7", 66), ("0.3.24", 86))),
        ("t13d1812h2_85036bcba153_b0f7e37a9b40",),
    ),
    "litellm": (
        tuple(f"litellm/{v}" for v in ("1.52.16", "1.61.3", "1.67.0", "1.74.9")),
        ("t13d1813h2_85036bcba153_375ca2c5e164",),
    ),
    "python-requests": (
        tuple(f"python-requests/{v}" for v in ("2.28.2", "2.31.0", "2.32.3", "2.32.4")),
        ("t13d1811h1_85036bcba153_ab7a4e1b4a1d", "t13d1812h1_85036bcba153_375ca2c5e164"),
    ),
    "httpx": (
        tuple(f"python-httpx/{v}" for v in ("0.25.2", "0.27.0", "0.27.2", "0.28.1")),
        ("t13d1812h2_85036bcba153_b0f7e37a9b40",),
    ),
    "aiohttp": (
        tuple(f"Python/3.{m} aiohttp/{v}" for m, v in (
            (10, "3.9.5"), (11, "3.10.10"), (12, "3.11.11"))),
        ("t13d1812h1_85036bcba153_ab7a4e1b4a1d",),
    ),
    "curl": (
        tuple(f"curl/{v}" for v in ("7.68.0", "7.81.0", "8.4.0", "8.5.0", "8.7.1", "8.11.1")),
        ("t13d3113h2_e8f1e7e78f70_6bebaf5329ac", "t13d3112h2_e8f1e7e78f70_b26ce05bbdd6"),
    ),
    "go": (
        ("Go-http-client/2.0", "Go-http-client/1.1"),
        ("t13d1312h2_f57a46bbacb6_e7c285222651",),
    ),
    "okhttp": (
        ("okhttp/4.12.0", "okhttp/4.11.0", "okhttp/5.0.0-alpha.14"),
        ("t13d1614h2_e5e1a4b5f2f4_9b0d79d10808",),
    ),
    "axios": (
        ("axios/1.6.8", "axios/1.7.7", "axios/1.8.4"),
        ("t13d1712h2_5b57614c22b0_93c746dc12af",),
    ),
    "ide-agent": (  # a BYOK coding tool: one user agent shared by all its users
        tuple(f"Quill/{v} (vscode; node)" for v in ("3.12.0", "3.14.2", "3.17.1", "3.18.0")),
        ("t13d1712h2_5b57614c22b0_93c746dc12af",),
    ),
    "postman": (
        ("PostmanRuntime/7.39.0", "PostmanRuntime/7.42.0", "PostmanRuntime/7.43.0"),
        ("t13d1712h2_5b57614c22b0_93c746dc12af",),
    ),
    "chrome": (
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/132.0.0.0 Safari/537.36",
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/133.0.0.0 Safari/537.36 Edg/133.0.0.0",
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36",
            "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.135 Mobile Safari/537.36",
        ),
        ("t13d1516h2_8daaf6152771_02713d6af862", "t13d1517h2_8daaf6152771_b1ff8ab2d16f"),
    ),
    "safari": (
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.2 Safari/605.1.15",
            "Mozilla/5.0 (iPhone; CPU iPhone OS 18_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.2 Mobile/15E148 Safari/604.1",
            "Mozilla/5.0 (iPad; CPU OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1",
        ),
        ("t13d2014h2_a09f3c656075_14788d8d241b",),
    ),
    "firefox": (
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
            "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:134.0) Gecko/20100101 Firefox/134.0",
        ),
        ("t13d1715h2_5b57614c22b0_3d5424432f57",),
    ),
    "ios-app": (
        ("MyAssistant/3.4.1 (iPhone; iOS 18.1; Scale/3.00)", "ChatPad/2.12 CFNetwork/1568.200.51 Darwin/24.1.0",
         "NoteGenie/1.9.0 (com.notegenie.app; build:412; iOS 17.6.1) Alamofire/5.9.1"),
        ("t13d2014h2_a09f3c656075_14788d8d241b",),
    ),
    "dart": (
        ("Dart/3.4 (dart:io)", "Dart/3.5 (dart:io)"),
        ("t13d1614h2_e5e1a4b5f2f4_9b0d79d10808",),
    ),
    "java": (
        ("Java-http-client/17.0.9", "Java-http-client/21.0.2", "Apache-HttpClient/5.3.1 (Java/17.0.10)"),
        ("t13d4312h2_22d6e4a2b7b4_0ad5b4e6fd4f",),
    ),
}
#: Custom TLS stacks seen with a spoofed browser UA (uTLS / curl-impersonate builds).
ODD_JA4 = (
    "t13d1516h2_8daaf6152771_e5627efa2ab1",  # curl-impersonate chrome, off by one extension set
    "t13d1715h2_5b57614c22b0_7121afd63204",
    "t12d1209h2_d34a8e72043a_b39be8c56a14",
)


@dataclass(frozen=True)
class Client:
    """One concrete client as seen at the edge: UA string + JA4."""

    ua: str
    ja4: str


def pick_clients(
    rng: np.random.Generator, weights: dict[str, float], n: int, *, spoof_share: float = 0.0
) -> list[Client]:
    """Draw ``n`` clients by family weights; ``spoof_share`` of them send a browser UA
    over a non-browser TLS stack (what impersonating scrapers do)."""
    fams = list(weights)
    p = np.array([weights[f] for f in fams], dtype=float)
    p /= p.sum()
    out: list[Client] = []
    for _ in range(n):
        fam = fams[int(rng.choice(len(fams), p=p))]
        uas, ja4s = UA_FAMILIES[fam]
        ua = uas[int(rng.integers(0, len(uas)))]
        ja4 = ja4s[int(rng.integers(0, len(ja4s)))]
        if spoof_share and rng.random() < spoof_share:
            b = UA_FAMILIES["chrome"][0]
            ua = b[int(rng.integers(0, len(b)))]
            pool = UA_FAMILIES["openai-python"][1] + UA_FAMILIES["httpx"][1] + ODD_JA4
            ja4 = pool[int(rng.integers(0, len(pool)))]
        out.append(Client(ua, ja4))
    return out


# --------------------------------------------------------------------------- identity
CONSUMER_MAIL = {
    "gmail.com": 0.42, "outlook.com": 0.1, "hotmail.com": 0.06, "yahoo.com": 0.06,
    "icloud.com": 0.07, "proton.me": 0.03, "qq.com": 0.04, "163.com": 0.03, "naver.com": 0.02,
    "gmx.de": 0.02, "yandex.ru": 0.02, "mail.ru": 0.01, "web.de": 0.01, "hey.com": 0.005,
    "fastmail.com": 0.01, "foxmail.com": 0.01, "126.com": 0.01, "yahoo.co.jp": 0.01,
}
DISPOSABLE_MAIL = (
    "sharklasers.com", "yopmail.com", "guerrillamailblock.com", "mailnesia.com",
    "tmpbox.net", "dropmail.me", "emltmp.com", "tempmail.dev",
)
EDU_DOMAINS = (
    "stanford.edu", "mit.edu", "berkeley.edu", "cmu.edu", "umich.edu", "utexas.edu",
    "washington.edu", "ox.ac.uk", "cam.ac.uk", "ucl.ac.uk", "ethz.ch", "epfl.ch",
    "tum.de", "u-tokyo.ac.jp", "kaist.ac.kr", "tsinghua.edu.cn", "pku.edu.cn", "nus.edu.sg",
    "utoronto.ca", "mcgill.ca", "uva.nl", "unimelb.edu.au", "iitb.ac.in", "usp.br",
)
TLDS = ("com", "io", "ai", "co", "dev", "net", "app", "tech")
SHADY_TLDS = ("xyz", "top", "shop", "online", "site", "icu", "click")
CARD_BINS = (
    "414720", "426684", "434256", "453275", "476173", "485932", "400022", "411111",
    "510510", "522182", "531106", "542418", "552433", "545616", "379763", "601100",
    "356600", "622848", "625094", "404159",
)
#: BINs of virtual-card issuers that resellers buy cards from in sequence.
VIRTUAL_BINS = ("559666", "531993", "489583", "428852", "537110", "556150")


def company_domains(rng: np.random.Generator, words: list[str], n: int, shady: bool = False) -> list[str]:
    """Plausible company domains made from real dictionary words."""
    tlds = SHADY_TLDS if shady else TLDS
    out = []
    for _ in range(n):
        a = words[int(rng.integers(0, len(words)))]
        b = words[int(rng.integers(0, len(words)))]
        form = int(rng.integers(0, 3))
        name = a if form == 0 else (a + b if form == 1 else f"{a}-{b}")
        out.append(f"{name}.{tlds[int(rng.integers(0, len(tlds)))]}")
    return out


def card(rng: np.random.Generator, bin6: str, last4: int, salt: str) -> str:
    """Payment fingerprint as the processor exposes it: BIN, last four, opaque hash.

    The hash is keyed by the processor (``salt``): the same card seen by two labs on the
    same processor has the same fingerprint; on different processors only BIN/last4 match.
    """
    import xxhash

    full = f"{bin6}{last4:04d}"
    return f"{bin6}-{last4:04d}-{xxhash.xxh64_hexdigest((salt + full).encode())[:10]}"
