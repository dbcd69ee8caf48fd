"""graftlab.backbones"""
