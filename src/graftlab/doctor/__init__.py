"""graftlab.doctor"""
