"""The parts of bench/avance.py: its platform (build), its SOAP requests (soap), and the
measures (a)+(b) whole group and floor (whole_group), (c) one user in-process
(one_user), (d) one user over HTTP under load (load)."""
