"""Test data and helpers shared by test modules: plain functions, classes and constants.

Fixtures live in ``tests/fixtures/`` (plugins registered by ``tests/conftest.py``) or in a folder's
``conftest.py``; test modules and fixture modules import what they need from here. Nothing here is
collected by pytest, and nothing here imports a test module or a conftest.
"""
