# ruff: noqa: E501
"""SHA-256 of every shipped config file, compiled into the package (generated).

Written by `python -m stimctl.testing.manifest --write-builtin` from the shipped
configs/ only. `selftest` and the session journal compare against these, so a
regenerated configs_manifest.json cannot hide a locally edited table.
"""

from typing import Final

SHIPPED_CONFIG_DIGESTS: Final[dict[str, str]] = {
    "devices/magpro-r30-magoption.toml": "78abeb372d024babb7772c4e91803a7c819615d96ef1815e097fb46d9cba6b1b",
    "devices/magpro-r30.toml": "40c0f298db86cb51d70178b1c84c9ba753fabc9ce23f6df2f5de20d5ea617e54",
    "devices/magpro-x100-magoption.toml": "09139536699c308d0b9a0f0be63b504a97d7cfe6a5ca802b076d52ceb0a37fe8",
    "devices/magpro-x100.toml": "9e9902fbe0cc7bae77e9b5103bb8ad5f02e5ac15494b1fd1761e23c4edbb3ac2",
    "devices/magstim-200.toml": "f4eb42ed1db2079f87fea4bdbfc2c4479c1254d47019f0740ede04a32e38502a",
    "devices/magstim-bistim.toml": "dddf3f2683c75cdcc826cad84a733bd6fcd1f08d511fc403400b5b413f667e26",
    "devices/magstim-rapid2-standard-115v.toml": "5cffbf4a0e564b505619fe207fd2173ea8e475f121ad791e4816a44fe758bf42",
    "devices/magstim-rapid2-standard-240v.toml": "1fc4245e173536ed63105a6ca0fe20e84175699f09999fc50376e9ede48f1b6b",
    "devices/magstim-rapid2-super-115v.toml": "7c396f6f7dbe1a1bd6a1a08170272d4f5f79b2f5cf39fd98d7051e388bf03212",
    "devices/magstim-rapid2-super-240v.toml": "9939c53b244fcc6b4167194d71efb6d6c3a1f8f14aad429b7a14d5466fadb81f",
    "devices/magstim-rapid2-super-plus-115v.toml": "976f2cf16672c6e2bd2a5e38c9489de487115b2aa544d9626fb223db3d644324",
    "devices/magstim-rapid2-super-plus-240v.toml": "7b3156eef2e4ac1be3f91d54be93378f77171c77305904f151af687e299941cd",
    "devices/tables/rapid2-joules.toml": "15b89c4b3780567912e3a177d5e3843c1da657fcf5158e3d4ac8d66764658e99",
    "protocols/ctbs-m1.toml": "9ae86c933d75e17c37e7dbdd914784ca13a5573d5a17f1034a60a99a981f7309",
    "protocols/dep-1hz-rdlpfc.toml": "ad732247c66cfd3a2c1a18b6bcc0fb1abc8a5f65b2571f29da5fa9dfc34cfaea",
    "protocols/dep-fda-10hz-19min.toml": "5369ce9444087896737d2cbc4771208cbf92db15ce5aca2ad31b388a5f4e3e91",
    "protocols/dep-fda-10hz.toml": "293c98c4fb254cb2048bb688e7fae049d18e0522b78f2505cd7486a2f4332cde",
    "protocols/dep-h1-deep-tms.toml": "b8f30e7ab3b459686a734d64d1804b749be23c15b51aa8531048f894e3ff11fc",
    "protocols/dep-itbs-three-d.toml": "0de3d1880d69cc08096ebe631573322b0d449d2d6075f04ef03af90177d6d57b",
    "protocols/dep-saint.toml": "c3e190f8b400288d0d10f3655efbf174878c0c64f9e4c866605ae356939dc519",
    "protocols/np-m1-10hz-80.toml": "c698be2b803391e3519f4a5695092a49f20a6f64b82630427540bf16aba9a893",
    "protocols/np-m1-10hz-90.toml": "84a4ecf07225804c118033e6590b32a09cd8ab2c8ccb00695df70187454b2de1",
    "protocols/np-m1-10hz-attal.toml": "93c483f0164e590186f0bc0365e9190981cec46f6e6a4511f9c0a9c4766895ea",
    "protocols/np-m1-10hz-hodaj.toml": "17534543a221369516a910a7497bd203061fa97f95afc55c9fa88b39afec2ad4",
    "protocols/np-m1-20hz.toml": "a382375c6f47e0b8412b54c6fdd276cc80538089d984f9023bc872a5565e5891",
    "protocols/np-m1-5hz-hosomi.toml": "e31786d3e73d92e2b4c9dfe519ce1fe08f1229d9e0f55b9e56b6b94393d8b020",
    "protocols/np-m1-5hz-hosomi2013.toml": "521e71e08b510bbdb61227c605b18de016115c66bfc3d12d2dc5d876b95ae9b6",
    "safety/hcoil.toml": "0847dc70a7182b5af396a9eabe76644b66b9a400eff64651b4350052eaf40d52",
    "safety/limits.toml": "cfc75bf692aa3476381f304ce5e8ce7a843ccffa0ac8b9c66eeaa6ef0c6cacc2",
    "safety/screening.toml": "a2d915de6e940a870761a6efb2305c7fc88e4413192479da9af0ef70e2f17ef1",
    "safety/wass1998_t4.csv": "26df221d52d425050e7a8517f2abc9f6a89883b2100ecc02aaf9754c671bd7be",
    "site/default.toml": "a14e39615561d4c5cc229ba2377984293b2140401452f5a926886be98d0ff81c",
    "site/research.toml": "b4e6b480e0acbc2de552ab7e81c253b151dd72efe2c1ed50f861c65ba6811f25",
}
