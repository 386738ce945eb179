# ruff: noqa: E501
"""SHA-256 of every shipped config file, compiled into the package (generated).

Written by `python -m stimctl.testing.manifest --write-builtin` from the shipped
configs/ only. `selftest` and the session journal compare against these, so a
regenerated configs_manifest.json cannot hide a locally edited table.
"""

from typing import Final

SHIPPED_CONFIG_DIGESTS: Final[dict[str, str]] = {
    "devices/magpro-r30-magoption.toml": "d4ae525748d98d59267a2673365758f7285f6c1f30c4b13e6cb825f52ab0c667",
    "devices/magpro-r30.toml": "3e170b7e919d615ad54f72b705c4694d6b9a83cc6ce13701d7d3dfc2f216a5c7",
    "devices/magpro-x100-magoption.toml": "6f012f179c9100cbe660e60fdd04040dcb011420bc328002afd5a52be4cbea1d",
    "devices/magpro-x100.toml": "e9cda9ed38fdc12dfb28af0e4ebc0cfa004fa5173e59d321d09209508fa21320",
    "devices/magstim-200.toml": "ed5225ff782b524fe3a7abbe5387ddfb1399b5f2c07890c2babfd7d20660edab",
    "devices/magstim-bistim.toml": "b360606ba32154167b03250aedf77881bcd38cb13147c55e7526b8e4652718ba",
    "devices/magstim-rapid2-standard-115v.toml": "cce3b76b2a7d87ab508253de3921a74530a1a8a07aaf8659a98df961ce13beda",
    "devices/magstim-rapid2-standard-240v.toml": "7f4b4db4ed9704be068aa09838ea5422b806607d66e95a80674204dbf7b143c6",
    "devices/magstim-rapid2-super-115v.toml": "c3b1eacce3519c0a3afce6688075fed59d30312188f02489e6fbbf9491b33f28",
    "devices/magstim-rapid2-super-240v.toml": "0164a10683d426761987745acbf7eb20a11693b0e18a2a83cdbf3ee175cac6f1",
    "devices/magstim-rapid2-super-plus-115v.toml": "e4a96c5d296d673ad62052c222cf0ab24542ee843718ab54f91bef2e372d394a",
    "devices/magstim-rapid2-super-plus-240v.toml": "1ec902bbc248ad140482356e38fd0263f80aae4e9e5a05d779248154b7ed6f6d",
    "devices/tables/rapid2-joules.toml": "15b89c4b3780567912e3a177d5e3843c1da657fcf5158e3d4ac8d66764658e99",
    "protocols/ctbs-m1.toml": "b7df3976b7fc556811b5b6af02dba9e712a1e115b9fcdfa83a9c85c859e3953a",
    "protocols/dep-1hz-rdlpfc.toml": "1506aa584db9a5dcdb05a668fb14d58a8b836a1caa5b45b6e78cfd5085d62302",
    "protocols/dep-fda-10hz-19min.toml": "4184482bf0de3d718bfd27ac22e7c2eedb62b62af275700ee524c3edfeba8022",
    "protocols/dep-fda-10hz.toml": "a79a795732ca74aca36244b936b5bcdfad2a421486564af94faf714a8e82e889",
    "protocols/dep-h1-deep-tms.toml": "750c1aedd8010eda789c0da8d65eda507ab3ed91741deb10dc4a51825fe21e4a",
    "protocols/dep-itbs-three-d.toml": "ed50cde451b2c33b631ea65422044c87eb5b32f9f7501653869829100cad792c",
    "protocols/dep-saint.toml": "5193983308ce5737867b1c7670d480bb4ec58ccfe856cdca49929e4bdf2238e3",
    "protocols/np-m1-10hz-80.toml": "9e72b12ee0eec9e8b91de2f7a96116ecda117d872daad24f36cdc19060773c2d",
    "protocols/np-m1-10hz-90.toml": "cfb6c15087fb3e8322eb8c99e3193ffc5b2ea51460f622a2db88bf7e80dea61a",
    "protocols/np-m1-10hz-attal.toml": "4cb22a5fc2d014a3c36ba15182e9329285b0095c0f62fb5105376b8127ef85fb",
    "protocols/np-m1-10hz-hodaj.toml": "c0236eed1533dd81b8f09cd048713d7826253640acb34a1083e590122dd3be35",
    "protocols/np-m1-20hz.toml": "c12568deaf44e016606f08e70ed2c1df6da0b5d33a0e6ac850a1c265a7688be0",
    "protocols/np-m1-5hz-hosomi.toml": "dddf771e5f65e917aef3ed679d9264d05b6d7e7ded0c8fea1fa0968ad7c54c71",
    "safety/hcoil.toml": "863d2f6dc2f921406e181e167e7ca53777dafef38ba1b3de64308ff1d02f6a71",
    "safety/limits.toml": "36a686ca706558b7adf9e6755cd03620a951cb3c54a5ee274791b6157629da80",
    "safety/screening.toml": "5cc574561f493f18482227df51614b9f19de2ddcd04d3e119d35bb2056f2a6ab",
    "safety/wass1998_t4.csv": "14c16a8a1a0f2403c1b847a98b13abd06815230b71d441bc45c76cdf3fc02623",
    "site/default.toml": "a14e39615561d4c5cc229ba2377984293b2140401452f5a926886be98d0ff81c",
    "site/research.toml": "b4e6b480e0acbc2de552ab7e81c253b151dd72efe2c1ed50f861c65ba6811f25",
}
