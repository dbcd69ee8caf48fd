"""graftlab.report"""
