"""Kizuna (絆): the information system of NATO's liaison office in Tokyo and its Indo-Pacific partners."""

__version__ = "0.1.0"
