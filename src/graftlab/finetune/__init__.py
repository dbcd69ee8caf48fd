"""graftlab.finetune"""
