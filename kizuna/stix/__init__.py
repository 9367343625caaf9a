"""Pure helpers shared by every STIX 2.1 form Kizuna writes or reads (no Django imports): timestamps
(``kizuna.stix.timestamps``), Kizuna's own identity and the extension-definitions it declares
(``kizuna.stix.definitions``)."""
