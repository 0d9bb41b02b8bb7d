"""_mapping"""
